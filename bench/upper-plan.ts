// Pure plan of an upper dir as a host leaves it after months of use: state (logs, caches, data,
// dropped-in plugins), shadows (edited, untouched and chmod-ed copy-ups, type changes), whiteouts
// of deleted base files, and opaque dirs (a base dir the admin replaced wholesale).
import type { BasePlan, PlanEntry } from './base-plan.js';
import { fileName, unique } from './names.js';
import { createRng, type Rng } from './rng.js';

export interface UpperParams {
  readonly entries: number;
  readonly seed: number;
}

export type UpperKind = 'state' | 'shadow' | 'merged-dir' | 'opaque-dir' | 'whiteout';
interface Owned {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}
export type UpperPlanEntry =
  | (Owned & { readonly kind: 'dir' | 'opaque' })
  /** variant 0: the base's own content (a copy-up); other variants: edited content. */
  | (Owned & { readonly kind: 'file'; readonly size: number; readonly variant: number })
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'whiteout'; readonly path: string };

export interface UpperPlan {
  readonly params: UpperParams;
  /** Parents before children. */
  readonly entries: readonly UpperPlanEntry[];
  readonly counts: Readonly<Record<UpperKind, number>>;
}

const parentOf = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));
const MB = 1024 * 1024;

function stateSize(rng: Rng): number {
  const r = rng.next();
  return r < 0.05 ? 0 : r < 0.9 ? rng.logInt(16, 16384) : rng.logInt(16384, MB);
}

export function planUpper(base: BasePlan, params: UpperParams): UpperPlan {
  const rng = createRng(params.seed ^ (base.params.seed * 7919));
  const baseByPath = new Map<string, PlanEntry>(base.entries.map((e) => [e.path, e]));
  const files = base.entries.filter((e): e is PlanEntry & { kind: 'file' } => e.kind === 'file' && e.size <= MB);
  const links = base.entries.filter((e) => e.kind === 'symlink');
  const dirs = base.entries.filter((e): e is PlanEntry & { kind: 'dir' } => e.kind === 'dir');
  const deepDirs = dirs.filter((d) => d.path.split('/').length >= 3);
  const filesByDir = new Map<string, (PlanEntry & { kind: 'file' })[]>();
  for (const f of files) {
    const d = parentOf(f.path);
    const list = filesByDir.get(d);
    if (list) list.push(f);
    else filesByDir.set(d, [f]);
  }
  const merged: string[] = [];
  const upper = new Map<string, UpperPlanEntry>();
  const names = new Map<string, Set<string>>();
  const opaque: string[] = [];
  const stateDirs: string[] = [];
  const counts: Record<UpperKind, number> = { state: 0, shadow: 0, 'merged-dir': 0, 'opaque-dir': 0, whiteout: 0 };

  const add = (e: UpperPlanEntry, kind: UpperKind): void => {
    upper.set(e.path, e);
    counts[kind]++;
  };
  const blocked = (p: string): boolean => upper.has(p) || opaque.some((o) => p.startsWith(o + '/'));
  /** Copies up every missing ancestor as a merged dir (copy-up keeps the base dir's mode and owner). */
  const parents = (p: string): void => {
    const chain: string[] = [];
    for (let d = parentOf(p); d !== '' && !upper.has(d); d = parentOf(d)) chain.push(d);
    for (const d of chain.reverse()) {
      const b = baseByPath.get(d);
      if (b?.kind !== 'dir') throw new Error(`upper plan: ${d} is not a base directory`);
      add({ kind: 'dir', path: d, mode: b.mode, uid: b.uid, gid: b.gid }, 'merged-dir');
      if (filesByDir.has(d)) merged.push(d);
    }
  };
  const freshName = (dir: string, name: string): string => {
    let set = names.get(dir);
    if (!set) names.set(dir, (set = new Set()));
    for (let n = name; ; n = `${name}.${set.size}`) {
      const p = `${dir}/${n}`;
      if (!baseByPath.has(p) && !upper.has(p)) return `${dir}/${unique(set, n)}`;
    }
  };

  /** Edits cluster: most land beside earlier ones (the same package's etc/, the same plugin dir). */
  const baseFile = (): PlanEntry & { kind: 'file' } =>
    merged.length > 0 && rng.chance(0.6) ? rng.pick(filesByDir.get(rng.pick(merged)) ?? files) : rng.pick(files);
  const shadow = (): void => {
    const f = baseFile();
    if (blocked(f.path)) return;
    parents(f.path);
    const r = rng.next();
    if (r < 0.4) add({ ...f, kind: 'file', variant: 0 }, 'shadow');
    else if (r < 0.9) add({ ...f, kind: 'file', size: Math.round(f.size * (0.8 + 0.4 * rng.next())), variant: rng.int(1, 3) }, 'shadow');
    else if (r < 0.95) add({ ...f, kind: 'file', mode: f.mode ^ 0o020, variant: 0 }, 'shadow');
    else if (r < 0.98 || links.length === 0) add({ kind: 'symlink', path: f.path, target: `/srv/local/${f.path}` }, 'shadow');
    else {
      const l = rng.pick(links);
      if (blocked(l.path)) return;
      parents(l.path);
      add({ kind: 'symlink', path: l.path, target: `local-${rng.int(0, 999)}` }, 'shadow');
    }
  };
  const whiteout = (): void => {
    const e = rng.chance(0.9) || links.length === 0 ? baseFile() : rng.pick(links);
    if (blocked(e.path)) return;
    parents(e.path);
    add({ kind: 'whiteout', path: e.path }, 'whiteout');
  };
  const opaqueDir = (): void => {
    const d = rng.pick(deepDirs);
    if (blocked(d.path) || [...upper.keys()].some((p) => p.startsWith(d.path + '/'))) return;
    parents(d.path);
    add({ ...d, kind: 'opaque' }, 'opaque-dir');
    opaque.push(d.path);
    for (let i = rng.int(1, 6); i > 0; i--) {
      add({ kind: 'file', path: freshName(d.path, fileName(rng, false, 0.005)), mode: 0o644, uid: 0, gid: 0, size: stateSize(rng), variant: 7 }, 'state');
    }
  };
  const state = (): void => {
    let dir: string;
    if (stateDirs.length === 0 || rng.chance(0.08)) {
      // A new state dir: under a package (var/log, data, cache) or under another state dir.
      const under = stateDirs.length > 0 && rng.chance(0.5) ? rng.pick(stateDirs) : rng.pick(dirs).path.split('/').slice(0, rng.int(1, 2)).join('/');
      if (opaque.some((o) => under === o || under.startsWith(o + '/'))) return;
      if (baseByPath.has(under)) parents(`${under}/x`);
      dir = freshName(under, rng.pick(['log', 'cache', 'data', 'run', 'db', 'spool', 'tmp', 'sessions', 'plugins.d']));
      add({ kind: 'dir', path: dir, mode: rng.pick([0o755, 0o750, 0o700]), uid: rng.chance(0.3) ? 1000 : 0, gid: 0 }, 'state');
      stateDirs.push(dir);
      return;
    }
    if (rng.chance(0.7)) dir = rng.pick(stateDirs);
    else {
      // A file dropped straight into a base directory (a plugin, a locally compiled .pyc).
      dir = rng.pick(dirs).path;
      if (blocked(`${dir}/x`)) return;
      parents(`${dir}/x`);
    }
    const path = freshName(dir, fileName(rng, false, 0.005));
    if (rng.chance(0.02)) add({ kind: 'symlink', path, target: rng.chance(0.5) ? '../../../../../../etc/shadow' : `/var/tmp/${rng.int(0, 99)}` }, 'state');
    else add({ kind: 'file', path, mode: rng.pick([0o644, 0o600, 0o640]), uid: rng.chance(0.2) ? 1000 : 0, gid: 0, size: stateSize(rng), variant: 9 }, 'state');
  };

  while (upper.size < params.entries) {
    const r = rng.next();
    if (r < 0.33) shadow();
    else if (r < 0.41) whiteout();
    else if (r < 0.412) opaqueDir();
    else state();
  }
  return { params, entries: [...upper.values()], counts };
}
