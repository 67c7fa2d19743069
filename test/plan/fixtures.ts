// In-memory bases and uppers for planner tests: entries from short specs, plans rendered as compact lines.
import crypto from 'node:crypto';
import { defaultConfig } from '../../src/config/schema.js';
import { viewOf } from '../../src/manifest/store.js';
import type { BaseEntry, BaseView, Digest, EntryType, UpperEntry, UpperKind } from '../../src/model/entry.js';
import type { Plan, PlanConfig } from '../../src/plan/types.js';
import { rel } from '../model/rel.js';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

export interface Attrs {
  mode?: number;
  uid?: number;
  gid?: number;
  /** The xattr identity ('' none, the default); UNREAD: not read. */
  xattrs?: Digest;
}

/** A base entry: `file:CONTENT`, `link:TARGET`, `dir`, `chr:1:3`, `fifo`. */
export function base(path: string, spec: string, a: Attrs = {}): BaseEntry {
  const [kind, ...rest] = spec.split(':');
  const body = rest.join(':');
  const type: EntryType = kind === 'link' ? 'symlink' : (kind as EntryType);
  const digest = type === 'file' || type === 'symlink' || type === 'chr' || type === 'blk' ? sha(body) : '';
  return { path: rel(path), type, mode: a.mode ?? (type === 'dir' ? 0o755 : 0o644), uid: a.uid ?? 0, gid: a.gid ?? 0, size: body.length, digest, xattrs: a.xattrs ?? '' };
}

/** An upper entry: base specs, plus `whiteout`, `opaque` (opaque dir) and `metacopy`. */
export function up(path: string, spec: string, a: Attrs = {}): UpperEntry {
  if (spec === 'whiteout') return { path: rel(path), kind: 'whiteout', type: 'chr', mode: 0, uid: 0, gid: 0, size: 0, digest: sha('0:0'), whiteout: 'chardev' };
  if (spec === 'opaque') return { ...base(path, 'dir', a), kind: 'opaque-dir' };
  if (spec === 'metacopy') return { ...base(path, 'file:', a), kind: 'foreign', foreign: 'metacopy' };
  const b = base(path, spec, a);
  const kind: UpperKind = b.type === 'dir' ? 'merged-dir' : 'shadow';
  return { ...b, kind };
}

export const view = (...entries: BaseEntry[]): BaseView => viewOf(entries);

export function config(over: Partial<Omit<PlanConfig, 'paths'>> & { paths?: Partial<PlanConfig['paths']> } = {}): PlanConfig {
  const d = defaultConfig('opt', '/opt');
  return { path: '/opt', reconcile: over.reconcile ?? d.reconcile, unknownBase: over.unknownBase ?? d.unknownBase, paths: { ...d.paths, ...over.paths } };
}

/** One line per action (`move a 3`, `rename a>a.rpmsave 5`, `sidecar a.rpmnew<a 3`, ...) and per conflict (`! a 6`). */
export function lines(plan: Plan): string[] {
  const out: string[] = plan.actions.map((a) => {
    switch (a.kind) {
      case 'move-to-backups': return `move ${a.path} ${a.rule}`;
      case 'rename': return `rename ${a.path}>${a.to} ${a.rule}`;
      case 'write-sidecar': return `sidecar ${a.path}<${a.from} ${a.rule}`;
      case 'merge': return `merge ${a.path} ${a.driver} ${a.rule}`;
      case 'set-attrs': return `attrs ${a.path} ${a.mode.toString(8)} ${a.rule}`;
      case 'remove-empty-dir': return `rmdir ${a.path} ${a.rule}`;
      case 'keep': return `keep ${a.path} ${a.rule}`;
      case 'restore-from-backups': return `restore ${a.path} ${a.rule}`;
    }
  });
  return [...out, ...plan.conflicts.map((c) => `! ${c.path} ${c.rule}`)];
}
