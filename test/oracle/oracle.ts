// Oracle harness: the same package upgrade done by a real package manager in a scratch root, and by our
// reconcile over the two extracted versions with the same user edits made through a real overlay mount.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { run } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay, type ReconcileReport } from '../../src/ops/reconcile.js';
import { walk } from '../../src/tree/walk.js';
import { scratchOverlay } from '../ops/scratch.js';

export const PKG = 'sotest';
/** Where the package puts its files, inside the overlay's mountpoint /opt. */
export const PKG_DIR = `opt/${PKG}`;

export interface Version {
  readonly version: string;
  /** Path below /opt/sotest → content. */
  readonly files: Readonly<Record<string, string>>;
}

/** A user's changes to the installed tree, applied to a live directory (a package root or a mounted overlay). */
export type Edits = Readonly<Record<string, string | null>>;

export function applyEdits(dir: string, edits: Edits): void {
  for (const [rel, content] of Object.entries(edits)) {
    const p = path.join(dir, rel);
    if (content === null) fs.rmSync(p);
    else {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    }
  }
}

/** Writes a version's files below dir/opt/sotest. */
export function writeFiles(dir: string, v: Version): void {
  for (const [rel, content] of Object.entries(v.files)) {
    const p = path.join(dir, PKG_DIR, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode: 0o644 });
  }
}

/** Path → content (files) or '-> target' (symlinks) of every non-directory below dir. */
export function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of walk(dir)) {
    const full = path.join(dir, e.path);
    if (e.type === 'file') out[e.path] = fs.readFileSync(full, 'utf8');
    else if (e.type === 'symlink') out[e.path] = `-> ${fs.readlinkSync(full)}`;
    else if (e.type !== 'dir') out[e.path] = `<${e.type}>`;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function mountOver(s: ReturnType<typeof scratchOverlay>): Promise<void> {
  const { upper, work, target } = s.ov.layout;
  fs.mkdirSync(upper, { recursive: true });
  fs.mkdirSync(work, { recursive: true });
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${target},upperdir=${upper},workdir=${work},index=off,metacopy=off,redirect_dir=off,xino=off`, target]);
}

/**
 * Our side: base = extracted v1 at ROOT/opt, the edits made through the mounted overlay, the base
 * replaced by extracted v2, a reconcile, and the merged view of /opt/sotest read through a new mount.
 */
export async function ours(root: string, v1Opt: string, v2Opt: string, edits: Edits, paths: Parameters<typeof scratchOverlay>[1]): Promise<{ merged: Record<string, string>; report: ReconcileReport }> {
  const s = scratchOverlay(root, paths);
  const opt = s.ov.layout.target;
  fs.mkdirSync(opt, { recursive: true });
  await run('cp', ['-a', '--', `${v1Opt}/.`, opt]);
  await s.record('v1');
  await mountOver(s);
  try {
    applyEdits(path.join(opt, PKG), edits);
  } finally {
    await run('umount', [opt]);
  }
  await run('rm', ['-rf', '--one-file-system', '--', path.join(opt, PKG)]);
  await run('cp', ['-a', '--', `${v2Opt}/.`, opt]);
  const report = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'v2' } });
  await mountOver(s);
  try {
    return { merged: contents(path.join(opt, PKG)), report };
  } finally {
    await run('umount', [opt]);
  }
}

/** A path where the design knowingly differs from the package manager: both results, and why. */
export interface KnownDifference {
  readonly theirs: string | undefined;
  readonly ours: string | undefined;
  readonly why: string;
}

/** Our merged tree equals the package manager's everywhere but at the known differences, which hold as stated. */
export function expectSameExceptKnown(merged: Record<string, string>, theirs: Record<string, string>, known: Record<string, KnownDifference>): void {
  const without = (tree: Record<string, string>) => Object.fromEntries(Object.entries(tree).filter(([p]) => !(p in known)));
  expect(without(merged)).toEqual(without(theirs));
  for (const [p, k] of Object.entries(known)) {
    expect([p, 'theirs', theirs[p]]).toEqual([p, 'theirs', k.theirs]);
    expect([p, 'ours', merged[p]]).toEqual([p, 'ours', k.ours]);
  }
}
