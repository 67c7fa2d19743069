// After a manifest is recorded: the pristine copies the next update's merges need (manifest/pristine.ts).
import type { RelPath } from '../model/entry.js';
import { readClasses, readManifest } from '../manifest/store.js';
import { captureBlobs, pruneBlobs, shippedStore, stateStore, type BlobStore, type Captured } from '../manifest/pristine.js';
import type { ManifestEntry } from '../manifest/format.js';
import type { Overlay } from '../overlay/overlay.js';
import type { Journal } from '../txn/journal.js';
import { pathClassifier } from '../plan/classes.js';
import type { OverlaySession } from '../txn/session.js';
import path from 'node:path';
import { mergesConfigured, pristineMark } from '../manifest/pristine-mark.js';
import { writeFileAtomic } from '../state/atomic.js';

/**
 * Keeps the base content of the recorded manifest's files under a merge driver (ConfigMerge=, Merge=) for
 * the next update's merges, and drops the copies no longer needed: those of earlier manifests, and merge
 * results staged for a journal that is finished (one still pending keeps its own).
 */
export function keepPristine(s: OverlaySession, file: string, baseDir: string): void {
  const r = pristineOf(s.overlay, file, baseDir, s.journal);
  if (r.stored > 0) s.log.info({ event: 'run.pristine', name: s.overlay.name, stored: r.stored, bytes: r.bytes });
}

/** keepPristine for an overlay whose lock the caller holds; pending: the journal not finished yet, if any. */
export function pristineOf(ov: Overlay, file: string, baseDir: string, pending: Journal | null): Captured {
  const { layout } = ov;
  const { paths } = ov.config;
  const keep = new Set<string>();
  for (const a of pending?.plan.actions ?? []) if (a.kind === 'merge') keep.add(a.digest);
  const entries = mergeable(ov, file);
  const r = captureBlobs(stateStore(layout), baseDir, entries, paths.mergeMaxSize, shippedStore(layout));
  for (const e of entries) keep.add(e.digest);
  const mark = pristineMark(layout, ov.config, file);
  pruneBlobs(stateStore(layout), keep, path.basename(mark));
  if (mergesConfigured(ov.config)) {
    stateStore(layout).make();
    writeFileAtomic(mark, '');
  }
  return r;
}

/** The manifest's regular files under a merge driver (ConfigMerge=, Merge=), at most MergeMaxSize= bytes. */
function mergeable(ov: Overlay, file: string): ManifestEntry[] {
  const { paths } = ov.config;
  if (!mergesConfigured(ov.config)) return [];
  const classes = readClasses(file).byPath;
  const classify = pathClassifier(ov.config.path, paths, { b0: classes, b1: classes });
  const wanted = (p: RelPath) => {
    const c = classify(p);
    return c.merge !== undefined && c.keep === undefined;
  };
  return [...readManifest(file)].filter((e) => e.type === 'file' && e.size <= paths.mergeMaxSize && wanted(e.path));
}

/**
 * `index --ship`: the base content the host's merges will need, shipped beside the image's manifest (the
 * store's older blobs removed), so a host keeps them without reading its base. Only with a merge driver.
 */
export function shipPristine(ov: Overlay, file: string, baseDir: string): Captured {
  const store: BlobStore = shippedStore(ov.layout);
  const entries = mergeable(ov, file);
  const r = entries.length === 0 ? { stored: 0, bytes: 0 } : captureBlobs(store, baseDir, entries, ov.config.paths.mergeMaxSize);
  pruneBlobs(store, new Set(entries.map((e) => e.digest)));
  return r;
}

