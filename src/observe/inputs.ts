// Observes what the planner needs, reading only what matters: the upper (read once, see upper.ts), the
// recorded manifest at the upper's paths (and below its opaque dirs), and the current base at those
// paths and at the names a plan may write beside them: from its own manifest when its generation names
// one, else stat'ed (and hashed where a digest can change the plan, see digests.ts) in the live tree.
// The planner then runs once on what this returns.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { openManifestView, type ManifestLookup } from '../manifest/lookup.js';
import { viewOf } from '../manifest/store.js';
import { NAME_MAX, UNREAD, displayPath, joinRel, sameAttrs, sameContent, type BaseEntry, type BaseView, type Digest, type EntryType, type RelPath, type UpperEntry } from '../model/entry.js';
import { underAnyOf } from '../model/order.js';
import { DirHandles } from '../tree/handles.js';
import { DIR_FLAGS, closeQuietly, entryType, isAbsent } from '../tree/fsat.js';
import { walk } from '../tree/walk.js';
import { entryFor, mayMatch } from './digests.js';
import { UpperTree, type ReadUpperOptions } from './upper.js';

export interface PlanInputs {
  readonly b0: BaseView | null;
  readonly b1: BaseView;
  readonly upper: UpperEntry[];
}

/** The current base's own manifest: a shipped manifest whose sha256 is the current generation. */
export interface CurrentManifest {
  readonly file: string;
  /** The digest the file must have: read against a replaced manifest, the observation stops. */
  readonly sha256: string;
}

export interface Observation {
  /** The upper directory. */
  readonly upper: string;
  /** The base as readable now (the live tree); null: none to read, the current base's manifest alone (`preview --manifest`). */
  readonly base: string | null;
  /** The recorded generation's manifest; null or missing: B0 unknown (rule 10). */
  readonly b0Manifest: string | null;
  /** The current base's own manifest, read instead of the live base; null: the live base. */
  readonly current?: CurrentManifest | null;
  /** Read the current base below opaque dirs too (rule 7). */
  readonly subtrees: boolean;
  /**
   * The names a plan may write beside an upper entry (its sidecar and saved names; none where the plan
   * never writes). The current base is read at those names too, so that the plan sees one the base
   * ships, and base files that may be a sidecar's source are hashed: the sidecar carries their digest.
   */
  readonly besides?: (p: RelPath) => readonly RelPath[];
  /** Paths at or below a mount below the base (observe/submounts.ts): not part of the base. */
  readonly skip?: (p: RelPath) => boolean;
  /** Unreadable upper entries are reported here and left out (diff), instead of failing the observation. */
  readonly onError?: ReadUpperOptions['onError'];
}

/** The dirs not below another of them. */
function outermost(dirs: readonly RelPath[]): RelPath[] {
  const below = underAnyOf(dirs);
  return dirs.filter((d) => !below(d));
}

/** Paths and lstat of the live base below dir (dir itself excluded), never following a symlink. */
function baseBelow(base: DirHandles, dir: RelPath, skip: (p: RelPath) => boolean): Array<[RelPath, fs.Stats]> {
  let fd: number;
  try {
    fd = base.open(dir, DIR_FLAGS);
  } catch (err) {
    if (isAbsent(err)) return [];
    throw ioError('open', `${base.root}/${displayPath(dir)}`, err);
  }
  try {
    return [...walk(`/proc/self/fd/${fd}`, { skip: (p) => skip(joinRel(dir, p)) })].map((e): [RelPath, fs.Stats] => [joinRel(dir, e.path), e.st]);
  } finally {
    closeQuietly(fd);
  }
}

/** The current base at the paths classification asks about: from its manifest, or lstat'ed live. */
class CurrentBase {
  /** Paths asked, with the live lstat (live base) or the manifest entry (undefined: absent). */
  readonly asked = new Map<RelPath, fs.Stats | BaseEntry | undefined>();

  constructor(
    private readonly live: DirHandles | null,
    private readonly manifest: BaseView | null,
    private readonly skip: (p: RelPath) => boolean,
  ) {}

  type(p: RelPath): EntryType | undefined {
    let e = this.asked.get(p);
    if (e === undefined && !this.asked.has(p)) {
      e = this.manifest ? this.manifest.get(p) : this.skip(p) ? undefined : this.live!.lstat(p);
      this.asked.set(p, e);
    }
    if (e === undefined) return undefined;
    return 'digest' in e ? e.type : entryType(e);
  }
}

/** A base that is not there would read as "the base removed everything" (rule 5 for every shadow). */
function assertBase(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    throw new StateOverlayError('io', `base ${dir} is missing: nothing was changed`, { path: dir, cause: err });
  }
  if (!st.isDirectory()) throw new StateOverlayError('io', `base ${dir} is not a directory: nothing was changed`, { path: dir });
}

/**
 * Reads the upper and the two bases for a plan. The manifests' digests are checked beside the reading
 * (their views' `checked`): it returns only once they are, and a damaged manifest is named as such
 * before any error its records made.
 */
export async function observe(o: Observation): Promise<PlanInputs> {
  if (o.base === null && !o.current) throw new StateOverlayError('internal', 'observe: neither a base nor its manifest to read');
  if (o.base !== null) assertBase(o.base);
  const base = o.base === null ? null : new DirHandles(o.base);
  const up = UpperTree.read(o.upper, o.onError ? { onError: o.onError } : {});
  // Each manifest opened once, its digest checked once; looked up by path from then on.
  const manifests: ManifestLookup[] = [];
  const open = (file: string, sha256?: string): ManifestLookup => {
    const m = openManifestView(file, sha256 === undefined ? {} : { sha256 });
    manifests.push(m);
    return m;
  };
  try {
    let inputs: PlanInputs | undefined;
    let failure: unknown;
    try {
      inputs = await observeWith(o, base, up, open);
    } catch (err) {
      failure = err;
    }
    await Promise.all(manifests.map((m) => m.checked));
    if (inputs === undefined) throw failure;
    return inputs;
  } finally {
    base?.close();
    up.close();
    for (const m of manifests) m.close();
  }
}

async function observeWith(o: Observation, live: DirHandles | null, up: UpperTree, open: (file: string, sha256?: string) => BaseView): Promise<PlanInputs> {
  const current = o.current ?? null;
  const besides = o.besides ?? (() => []);
  const walked = up.walked;
  const paths = new Set(walked.map((e) => e.path));
  const wanted = new Set(paths);
  const sources = new Set<RelPath>();
  for (const p of paths) {
    const names = besides(p);
    if (names.length === 0) continue;
    sources.add(p);
    // A name past NAME_MAX can neither be in the base nor be written: the planner says so itself.
    for (const n of names) if (n.length - n.lastIndexOf('/') - 1 <= NAME_MAX) wanted.add(n);
  }
  const b1m = current === null ? null : open(current.file, current.sha256);
  const skip = o.skip ?? (() => false);
  const b1 = new CurrentBase(live, b1m, skip);
  let upper = up.classify((p) => b1.type(p));
  const opaque = upper.filter((e) => e.kind === 'opaque-dir').map((e) => e.path);

  let b0: BaseView | null = null;
  if (o.b0Manifest !== null && fs.existsSync(o.b0Manifest)) {
    // B0 at the upper's paths and below its opaque dirs: the planner asks about no others.
    const m = open(o.b0Manifest);
    const at = [...paths].map((p) => m.get(p)).filter((e) => e !== undefined);
    b0 = viewOf([...at, ...outermost(opaque).flatMap((d) => [...m.under(d)])]);
    // A directory the new base no longer has hid its children from classification: read them again against B0 too.
    const b0v = b0;
    if (upper.some((e) => e.type === 'dir' && e.kind === 'state' && b0v.get(e.path)?.type === 'dir')) {
      upper = up.classify((p) => b1.type(p) ?? b0v.get(p)?.type);
    }
  }
  const upperAt = new Map(upper.map((e) => [e.path, e]));
  // The names beside: asked after classification, which must not see them as base entries of the upper.
  for (const p of wanted) if (!paths.has(p)) b1.type(p);

  const b1Entries = new Map<RelPath, BaseEntry>();
  for (const [p, e] of b1.asked) {
    if (e === undefined) continue;
    b1Entries.set(p, 'digest' in e ? e : entryFor(live!, p, e, [b0?.get(p), upperAt.get(p)], sources.has(p))!);
  }
  if (o.subtrees) {
    const dirs = opaque.filter((d) => b1Entries.get(d)?.type === 'dir');
    if (b1m !== null) {
      for (const d of outermost(dirs)) for (const e of b1m.under(d)) b1Entries.set(e.path, e);
    } else {
      for (const d of dirs) for (const [p, st] of baseBelow(live!, d, skip)) b1Entries.set(p, entryFor(live!, p, st, [b0?.get(p)])!);
    }
  }

  // Digests of upper non-directories that sit over a base entry on either side (state needs none).
  const index = new Map(walked.map((w, i) => [w.path, i]));
  const hashed = upper.filter((e) => {
    if (e.type === 'dir' || e.kind === 'whiteout') return false;
    const others = [b0?.get(e.path), b1Entries.get(e.path)];
    if (others[0] === undefined && others[1] === undefined) return false;
    return e.type !== 'file' || mayMatch(e.size, others);
  });
  const digests = await up.digests(hashed.map((e) => index.get(e.path)!));
  const digestOf = new Map(hashed.map((e, k) => [e.path, digests[k]!]));
  upper = upper.map((e) => {
    const digest = digestOf.get(e.path);
    return digest === undefined ? e : { ...e, digest };
  });

  // xattrs where the plan decides by identity (rule 1; an empty directory's rmdir under rules 5 and 8):
  // of the upper entry, and of the live base entry it may be a copy of.
  upper = upper.map((e) => {
    const b = b1Entries.get(e.path);
    const merged = e.type === 'dir' && e.kind === 'merged-dir';
    const copy = e.type !== 'dir' && e.kind !== 'whiteout' && e.kind !== 'foreign' && b !== undefined && sameContent(e, b) && sameAttrs(e, b);
    if (!merged && !copy) return e;
    if (b !== undefined && b.type === e.type && b.xattrs === undefined) b1Entries.set(e.path, { ...b, xattrs: liveXattrs(live, e.path, skip) });
    return { ...e, xattrs: up.xattrs(index.get(e.path)!) };
  });
  return { b0, b1: viewOf(b1Entries.values()), upper };
}

/**
 * The live base entry's xattr identity; UNREAD where it is not there to read (a manifest's entry the tree
 * lacks). With no live base at all (`preview --manifest`), none: manifests hold no xattrs, and a plan from
 * one alone differs from the boot's only where the base has some.
 */
function liveXattrs(live: DirHandles | null, p: RelPath, skip: (p: RelPath) => boolean): Digest {
  if (live === null) return '';
  if (skip(p)) return UNREAD;
  try {
    return live.identityXattrs(p, true);
  } catch (err) {
    if (isAbsent((err as { cause?: unknown }).cause ?? err)) return UNREAD;
    throw err;
  }
}
