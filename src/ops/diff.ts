// The model behind `state-overlay diff`: every upper entry with its kind and, when the recorded
// generation's manifest exists, whether the base changed under it since.
import fs from 'node:fs';
import type { Overlay } from '../overlay/overlay.js';
import type { BaseEntry, RelPath, UpperEntry } from '../model/entry.js';
import { readState, stateManifestFile } from '../state/state-file.js';
import { classifyUpper } from '../observe/upper.js';
import { underAnyOf } from '../model/order.js';
import { changeUnder, type BaseChange } from '../plan/change.js';
import { currentGeneration, type Generation } from '../observe/generation.js';
import { hashPaths, subtreeEntries } from '../observe/hash.js';
import { manifestView, viewOf } from '../manifest/store.js';
import { liveBaseDir } from '../observe/live-base.js';

export interface DiffRow {
  readonly entry: UpperEntry;
  /** Absent for entries below a directory that hides the base, and when no manifest of the recorded generation exists. */
  readonly base?: BaseChange;
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
export async function upperDiff(ov: Overlay, baseDir: string = liveBaseDir(ov)): Promise<UpperDiff> {
  const { layout } = ov;
  const unreadable: { path: RelPath; error: string }[] = [];
  const { entries, top } = classifyUpper(layout.upper, baseDir, (path, err) => unreadable.push({ path, error: (err as NodeJS.ErrnoException).code ?? err.message }));
  const state = readState(layout);
  const mf = stateManifestFile(layout, state);
  const manifest = mf !== null && fs.existsSync(mf) ? mf : null;
  const current = await currentGeneration(ov, { baseDir });
  const recorded = state?.generation ?? null;
  let change: (e: UpperEntry) => BaseChange | undefined = () => undefined;
  if (manifest !== null && recorded === current.generation) {
    change = (e) => (top.has(e.path) ? 'unchanged' : undefined);
  } else if (manifest !== null) {
    const opaque = new Set(entries.filter((e) => e.kind === 'opaque-dir' && top.has(e.path)).map((e) => e.path));
    const below = underAnyOf(opaque);
    const b0 = manifestView(manifest, (p) => top.has(p) || below(p));
    const b1entries: BaseEntry[] = [...hashPaths(baseDir, top).values()];
    for (const d of opaque) b1entries.push(...subtreeEntries(baseDir, d));
    const b1 = viewOf(b1entries);
    change = (e) => (top.has(e.path) ? changeUnder(e.kind, e.path, b0, b1) : undefined);
  }
  const rows = entries.map((entry) => {
    const base = change(entry);
    return base === undefined ? { entry } : { entry, base };
  });
  return { name: ov.name, recorded, current, manifest, rows, unreadable };
}

