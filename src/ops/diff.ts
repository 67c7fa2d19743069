// `diff`: every upper entry with its kind and, when the recorded generation's manifest exists, whether
// the base changed under it since: observed and judged as a reconcile would (observe/, plan/change.ts).
import fs from 'node:fs';
import type { Overlay } from '../overlay/overlay.js';
import type { RelPath, UpperEntry } from '../model/entry.js';
import { currentGeneration, generationManifest, type Generation } from '../observe/generation.js';
import { observe } from '../observe/inputs.js';
import { liveBaseDir } from '../observe/live-base.js';
import { checkOverlayDirs } from '../mount/preflight.js';
import { baseSkip } from '../observe/submounts.js';
import { liveTypeOf, topPaths, withUpper } from '../observe/upper.js';
import { changeUnder, type BaseChange } from '../plan/change.js';
import { pathClassifier, type PathClass } from '../plan/classes.js';
import { classesOfGenerations } from '../observe/package-db.js';
import { readState, stateManifestFile } from '../state/state-file.js';
import { withHandles } from '../tree/handles.js';
import type { MergeView } from '../plan/types.js';
import { mergesOf } from './reconcile.js';

export interface DiffRow {
  readonly entry: UpperEntry;
  /** Absent for entries below a directory that hides the base, and when no manifest of the recorded generation exists. */
  readonly base?: BaseChange;
  /** The path's class, as a reconcile would classify it (globs and package classes of both generations). */
  readonly cls: PathClass;
  /** The three-way merge a reconcile would try for the file (ConfigMerge=, Merge=), when it would try one. */
  readonly merge?: MergeView;
}

export interface UpperDiff {
  readonly name: string;
  readonly recorded: string | null;
  readonly current: Generation;
  /** The recorded generation's manifest, when it exists. */
  readonly manifest: string | null;
  readonly rows: readonly DiffRow[];
  /** Upper entries that could not be read. */
  readonly unreadable: readonly { path: RelPath; error: string }[];
}

/** The diff of an overlay against its base as readable now (baseDir: the private bind while mounted). */
export async function upperDiff(ov: Overlay, baseDir?: string): Promise<UpperDiff> {
  const { layout } = ov;
  checkOverlayDirs(ov, { mountpoint: false });
  baseDir ??= liveBaseDir(ov);
  const unreadable: { path: RelPath; error: string }[] = [];
  const onError = (path: RelPath, err: Error) => void unreadable.push({ path, error: (err as NodeJS.ErrnoException).code ?? err.message });
  const state = readState(layout);
  const mf = stateManifestFile(layout, state);
  const manifest = mf !== null && fs.existsSync(mf) ? mf : null;
  const current = await currentGeneration(ov, { baseDir });
  const recorded = state?.generation ?? null;
  let entries: UpperEntry[];
  let change: (e: UpperEntry) => BaseChange | undefined = () => undefined;
  let merges: ReadonlyMap<RelPath, MergeView> = new Map();
  const { config } = ov;
  const { classes } = await classesOfGenerations({ b0Manifest: manifest, current: generationManifest(current)?.file ?? null, root: layout.root, mountpoint: config.path, from: config.paths.configFrom });
  if (manifest === null || recorded === current.generation) {
    // Nothing to compare (or nothing changed): kinds against the live base, no content read.
    entries = withHandles(baseDir, (base) => withUpper(layout.upper, { onError }, (u) => u.classify(liveTypeOf(base))));
    if (manifest !== null) change = () => 'unchanged';
  } else {
    // What a reconcile would observe, judged by the rules' own predicates.
    const inputs = await observe({ upper: layout.upper, base: baseDir, b0Manifest: manifest, current: generationManifest(current), subtrees: true, onError, skip: baseSkip(ov) });
    entries = inputs.upper;
    const b0 = inputs.b0!;
    change = (e) => changeUnder(e.kind, e.path, b0, inputs.b1);
    if (config.reconcile === 'changed') merges = mergesOf(ov, inputs, classes, baseDir).views;
  }
  const classify = pathClassifier(config.path, config.paths, classes);
  const top = topPaths(entries);
  const rows = entries.map((entry) => {
    const base = top.has(entry.path) ? change(entry) : undefined;
    const cls = classify(entry.path);
    const merge = merges.get(entry.path);
    return { entry, cls, ...(base === undefined ? {} : { base }), ...(merge === undefined ? {} : { merge }) };
  });
  return { name: ov.name, recorded, current, manifest, rows, unreadable };
}
