// Gathers what the planner needs, reading only what matters: the upper tree (walked once), the recorded
// manifest at the upper's paths (and below its opaque dirs), and the current base at those paths only:
// from its own manifest when its generation names one, else stat'ed (and hashed where a digest can
// change the plan, see digests.ts) in the live tree.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { underAnyOf } from '../model/order.js';
import { manifestView, viewOf } from '../manifest/store.js';
import { displayPath, type BaseEntry, type BaseView, type EntryType, type RelPath, type UpperEntry } from '../model/entry.js';
import { classifyUpper, type UpperStat } from './classify.js';
import { DIR_FLAGS, closeQuietly, entryType, isAbsent, openBeneath } from '../tree/fsat.js';
import { walk } from '../tree/walk.js';
import type { OverlayXattrs } from '../tree/xattr.js';
import { entryFor, mayMatch, unhashed } from './digests.js';
import { TreeProbe } from './probe.js';
import type { Plan } from '../plan/types.js';

export interface PlanInputs {
  readonly b0: BaseView | null;
  readonly b1: BaseView;
  readonly upper: UpperEntry[];
}

/** The current base's own manifest: a shipped manifest whose sha256 is the current generation. */
export interface CurrentManifest {
  readonly file: string;
  /** The digest the file must have: read against a replaced manifest, the reconcile stops. */
  readonly sha256: string;
}

interface Walked extends UpperStat {
  readonly st: UpperStat['st'] & { readonly ino: number };
}

/** Every upper entry, pre-order, with the stat fields classification and hashing need. */
function walkUpper(upperDir: string): Walked[] {
  const out: Walked[] = [];
  if (!fs.existsSync(upperDir)) return out;
  const onError = (p: RelPath, err: Error) => {
    throw ioError('read upper entry', `${upperDir}/${displayPath(p)}`, err);
  };
  for (const w of walk(upperDir, { onError })) {
    const { mode, uid, gid, size, rdev, ino } = w.st;
    out.push({ path: w.path, type: w.type, st: { mode, uid, gid, size, rdev, ino } });
  }
  return out;
}

/** Paths and lstat of the live base below dir (dir itself excluded), never following a symlink. */
function baseBelow(baseDir: string, dir: RelPath): Array<[RelPath, fs.Stats]> {
  let fd: number;
  try {
    fd = openBeneath(baseDir, dir, DIR_FLAGS);
  } catch (err) {
    if (isAbsent(err)) return [];
    throw ioError('open', `${baseDir}/${displayPath(dir)}`, err);
  }
  try {
    return [...walk(`/proc/self/fd/${fd}`)].map((e): [RelPath, fs.Stats] => [`${dir}/${e.path}`, e.st]);
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Reads the upper and the two bases for a reconcile. manifestFile: the recorded generation's manifest
 * (null or missing: B0 unknown, rule 10). withSubtrees: read the current base below opaque dirs (rule 7).
 * current: the current base's own manifest, read instead of the live base.
 */
export function gatherInputs(upperDir: string, baseDir: string, manifestFile: string | null, withSubtrees: boolean, current: CurrentManifest | null = null): PlanInputs {
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
    return gather(upperDir, baseDir, manifestFile, withSubtrees, current, base, up);
  } finally {
    base.close();
    up.close();
  }
}

/** The current base at the paths classification asks about: from its manifest, or lstat'ed live. */
class CurrentBase {
  /** Paths asked, with the live lstat (live base) or the manifest entry (undefined: absent). */
  readonly asked = new Map<RelPath, fs.Stats | BaseEntry | undefined>();

  constructor(
    private readonly probe: TreeProbe,
    private readonly manifest: BaseView | null,
  ) {}

  type(p: RelPath): EntryType | undefined {
    let e = this.asked.get(p);
    if (e === undefined && !this.asked.has(p)) {
      e = this.manifest ? this.manifest.get(p) : this.probe.lstat(p);
      this.asked.set(p, e);
    }
    if (e === undefined) return undefined;
    return 'digest' in e ? e.type : entryType(e);
  }
}

function gather(
  upperDir: string,
  baseDir: string,
  manifestFile: string | null,
  withSubtrees: boolean,
  current: CurrentManifest | null,
  base: TreeProbe,
  up: TreeProbe,
): PlanInputs {
  const walked = walkUpper(upperDir);
  const paths = new Set(walked.map((e) => e.path));
  const b1m = current === null ? null : manifestView(current.file, (p) => paths.has(p), { sha256: current.sha256 });
  const b1 = new CurrentBase(base, b1m);
  const xattrs = new Map<RelPath, OverlayXattrs>();
  const xattrsOf = (e: Walked): OverlayXattrs => {
    let x = xattrs.get(e.path);
    if (x === undefined) {
      x = up.xattrs(e.path);
      xattrs.set(e.path, x);
    }
    return x;
  };
  let upper = [...classifyUpper(walked, (p) => b1.type(p), xattrsOf)];
  const opaque = upper.filter((e) => e.kind === 'opaque-dir').map((e) => e.path);

  let b0: BaseView | null = null;
  if (manifestFile !== null && fs.existsSync(manifestFile)) {
    const belowOpaque = underAnyOf(opaque);
    b0 = manifestView(manifestFile, (p) => paths.has(p) || belowOpaque(p));
    // A directory the new base no longer has hid its children from classification: read them again against B0 too.
    const b0v = b0;
    if (upper.some((e) => e.type === 'dir' && e.kind === 'state' && b0v.get(e.path)?.type === 'dir')) {
      upper = [...classifyUpper(walked, (p) => b1.type(p) ?? b0v.get(p)?.type, xattrsOf)];
    }
  }
  const upperAt = new Map(upper.map((e) => [e.path, e]));

  const b1Entries = new Map<RelPath, BaseEntry>();
  for (const [p, e] of b1.asked) {
    if (e === undefined) continue;
    b1Entries.set(p, 'digest' in e ? e : entryFor(base, p, e, [b0?.get(p), upperAt.get(p)])!);
  }
  if (withSubtrees) {
    const dirs = opaque.filter((d) => b1Entries.get(d)?.type === 'dir');
    if (current !== null && dirs.length > 0) {
      const below = underAnyOf(dirs);
      for (const e of manifestView(current.file, below, { sha256: current.sha256 }).under('')) b1Entries.set(e.path, e);
    } else {
      for (const d of dirs) for (const [p, st] of baseBelow(baseDir, d)) b1Entries.set(p, entryFor(base, p, st, [b0?.get(p)])!);
    }
  }

  // Digests of upper non-directories that sit over a base entry on either side (state needs none).
  upper = upper.map((e, i) => {
    if (e.type === 'dir' || e.kind === 'whiteout') return e;
    const others = [b0?.get(e.path), b1Entries.get(e.path)];
    if (others[0] === undefined && others[1] === undefined) return e;
    if (e.type === 'file' && !mayMatch(e.size, others)) return { ...e, digest: unhashed('upper', e.path) };
    return { ...e, digest: up.digest(e.path, walked[i]!.st) };
  });
  return { b0, b1: viewOf(b1Entries.values()), upper };
}

/**
 * Plans, and plans again when the current base ships a name the plan writes (a sidecar or saved name
 * beside an upper entry): the inputs hold the base at the upper's paths only, and the planner must see
 * such a name to leave it alone.
 */
export function planSeeingWrittenNames(inputs: PlanInputs, baseDir: string, current: CurrentManifest | null, plan: (i: PlanInputs) => Plan): Plan {
  const first = plan(inputs);
  const upper = new Set(inputs.upper.map((e) => e.path));
  const names = new Set(first.actions.flatMap((a) => (a.kind === 'write-sidecar' ? [a.path] : a.kind === 'rename' ? [a.to] : [])).filter((p) => !upper.has(p)));
  if (names.size === 0) return first;
  let found: BaseEntry[];
  if (current !== null) found = [...manifestView(current.file, (p) => names.has(p), { sha256: current.sha256 }).under('')];
  else {
    const probe = new TreeProbe(baseDir);
    try {
      found = [...names].flatMap((p) => probe.entry(p, probe.lstat(p), '') ?? []);
    } finally {
      probe.close();
    }
  }
  if (found.length === 0) return first;
  return plan({ ...inputs, b1: viewOf([...inputs.b1.under(''), ...found]) });
}
