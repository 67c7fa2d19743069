// Gathers what the planner needs, reading only what matters: the upper tree, the recorded manifest at the
// upper's paths (and below its opaque dirs), and the live base stat'ed and hashed at those paths only.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { manifestView, viewOf } from '../manifest/store.js';
import { displayPath, parentOf, type BaseEntry, type BaseView, type EntryType, type RelPath, type UpperEntry } from '../model/entry.js';
import { readUpper } from '../tree/classify.js';
import { DIR_FLAGS, closeQuietly, entryType, isAbsent, openBeneath } from '../tree/fsat.js';
import { walk } from '../tree/walk.js';
import { TreeProbe } from './probe.js';

export interface PlanInputs {
  readonly b0: BaseView | null;
  readonly b1: BaseView;
  readonly upper: UpperEntry[];
}

function readAll(upperDir: string, base: (p: RelPath) => EntryType | undefined): UpperEntry[] {
  const out: UpperEntry[] = [];
  if (!fs.existsSync(upperDir)) return out;
  for (const e of readUpper(upperDir, base, {
    onError: (p, err) => {
      throw ioError('read upper entry', `${upperDir}/${displayPath(p)}`, err);
    },
  })) out.push(e);
  return out;
}

function underAny(p: RelPath, dirs: ReadonlySet<RelPath>): boolean {
  for (let d = parentOf(p); ; d = parentOf(d)) {
    if (dirs.has(d)) return true;
    if (d === '') return false;
  }
}

/** Paths of the live base below dir (dir itself excluded), never following a symlink. */
function baseBelow(baseDir: string, dir: RelPath): RelPath[] {
  let fd: number;
  try {
    fd = openBeneath(baseDir, dir, DIR_FLAGS);
  } catch (err) {
    if (isAbsent(err)) return [];
    throw ioError('open', `${baseDir}/${displayPath(dir)}`, err);
  }
  try {
    return [...walk(`/proc/self/fd/${fd}`)].map((e) => `${dir}/${e.path}`);
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Reads the upper and the two bases for a reconcile. manifestFile: the recorded generation's manifest
 * (null or missing: B0 unknown, rule 10). withSubtrees: hash the live base below opaque dirs (rule 7).
 */
export function gatherInputs(upperDir: string, baseDir: string, manifestFile: string | null, withSubtrees: boolean): PlanInputs {
  // A base that is not there would read as "the base removed everything" (rule 5 for every shadow).
  let st: fs.Stats;
  try {
    st = fs.statSync(baseDir);
  } catch (err) {
    throw new StateOverlayError('io', `base ${baseDir} is missing: nothing was changed`, { path: baseDir, cause: err });
  }
  if (!st.isDirectory()) throw new StateOverlayError('io', `base ${baseDir} is not a directory: nothing was changed`, { path: baseDir });
  const base = new TreeProbe(baseDir);
  const up = new TreeProbe(upperDir);
  try {
    return gather(upperDir, baseDir, manifestFile, withSubtrees, base, up);
  } finally {
    base.close();
    up.close();
  }
}

function gather(upperDir: string, baseDir: string, manifestFile: string | null, withSubtrees: boolean, base: TreeProbe, up: TreeProbe): PlanInputs {
  const b1Stats = new Map<RelPath, fs.Stats | undefined>();
  const b1Type = (p: RelPath): EntryType | undefined => {
    let st = b1Stats.get(p);
    if (st === undefined && !b1Stats.has(p)) {
      st = base.lstat(p);
      b1Stats.set(p, st);
    }
    return st ? entryType(st) : undefined;
  };
  let upper = readAll(upperDir, b1Type);
  const opaque = new Set(upper.filter((e) => e.kind === 'opaque-dir').map((e) => e.path));

  let b0: BaseView | null = null;
  if (manifestFile !== null && fs.existsSync(manifestFile)) {
    const paths = new Set(upper.map((e) => e.path));
    b0 = manifestView(manifestFile, (p) => paths.has(p) || (opaque.size > 0 && underAny(p, opaque)));
    // A directory the new base no longer has hid its children from classification: read them again against B0 too.
    const b0v = b0;
    if (upper.some((e) => e.type === 'dir' && e.kind === 'state' && b0v.get(e.path)?.type === 'dir')) {
      upper = readAll(upperDir, (p) => b1Type(p) ?? b0v.get(p)?.type);
    }
  }

  const b1Entries = new Map<RelPath, BaseEntry>();
  for (const [p, st] of b1Stats) {
    const e = st && base.entry(p, st);
    if (e) b1Entries.set(p, e);
  }
  if (withSubtrees) {
    for (const d of opaque) {
      if (b1Entries.get(d)?.type !== 'dir') continue;
      for (const p of baseBelow(baseDir, d)) {
        const e = base.entry(p);
        if (e) b1Entries.set(p, e);
      }
    }
  }

  // Digests of upper non-directories that sit over a base entry on either side (state needs none).
  upper = upper.map((e) => {
    if (e.type === 'dir' || e.kind === 'whiteout' || (!b1Entries.has(e.path) && b0?.get(e.path) === undefined)) return e;
    const h = up.entry(e.path);
    return h ? { ...e, digest: h.digest } : e;
  });
  return { b0, b1: viewOf(b1Entries.values()), upper };
}
