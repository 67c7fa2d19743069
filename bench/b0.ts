// The manifest of the *previous* base (B0) for the reconcile figure: the current base's manifest
// with the changes an image update brings undone. About 10% of files get another digest (the update
// changed them), 1% are absent (the update added them), 2% of directories another mode, and some
// state files the host dropped into base dirs are recorded as shipped by the old base (it removed them).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { encodeManifest } from '../src/manifest/encode.js';
import { readRecords } from '../src/manifest/store.js';
import type { ManifestEntry as BaseEntry } from '../src/manifest/format.js';
import { relPath } from '../src/model/entry.js';
import { comparePaths } from '../src/model/order.js';
import { hash32 } from './rng.js';
import type { UpperPlan } from './upper-plan.js';

const sha = (s: string): string => crypto.createHash('sha256').update(s, 'latin1').digest('hex');

export interface B0Summary {
  readonly changed: number;
  readonly added: number;
  readonly removed: number;
}

export function writeB0(current: string, upper: UpperPlan, out: string): B0Summary {
  const inCurrent = new Set<string>();
  for (const r of readRecords(current)) inCurrent.add(r.entry.path);
  const dirOf = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));
  const removed: BaseEntry[] = upper.entries
    .filter((e) => e.kind === 'file' && e.variant === 9 && hash32(e.path) % 10 === 3 && inCurrent.has(dirOf(e.path)) && !inCurrent.has(e.path))
    .map((e): BaseEntry => ({ path: relPath(e.path), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 100, digest: sha(`b0:${e.path}`) }))
    .sort((a, b) => comparePaths(a.path, b.path));
  const entries: BaseEntry[] = [];
  let next = 0;
  const sum = { changed: 0, added: 0, removed: removed.length };
  const push = (e: BaseEntry): void => void entries.push(e);
  for (const { entry: e } of readRecords(current)) {
    while (next < removed.length && comparePaths((removed[next] as BaseEntry).path, e.path) < 0) push(removed[next++] as BaseEntry);
    const h = hash32(e.path) % 100;
    if (e.type === 'file' && h === 1) {
      sum.added++;
      continue;
    }
    if (e.type === 'file' && h % 10 === 0) {
      sum.changed++;
      push({ ...e, digest: sha(`b0:${e.path}`) });
    } else if (e.type === 'dir' && h % 50 === 2) {
      sum.changed++;
      push({ ...e, mode: e.mode ^ 0o022 });
    } else push(e);
  }
  while (next < removed.length) push(removed[next++] as BaseEntry);
  fs.writeFileSync(out, encodeManifest(entries));
  return sum;
}
