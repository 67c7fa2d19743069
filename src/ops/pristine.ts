// After a manifest is recorded: the pristine copies the next update's merges need (manifest/pristine.ts).
import type { RelPath } from '../model/entry.js';
import { readClasses, readManifest } from '../manifest/store.js';
import { captureBlobs, pruneBlobs } from '../manifest/pristine.js';
import { pathClassifier } from '../plan/classes.js';
import type { OverlaySession } from '../txn/session.js';

/**
 * Keeps the base content of the recorded manifest's files under a merge driver (ConfigMerge=, Merge=) for
 * the next update's merges, and drops the copies no longer needed: those of earlier manifests, and merge
 * results staged for a journal that is finished (one still pending keeps its own).
 */
export function keepPristine(s: OverlaySession, file: string, baseDir: string): void {
  const { layout, overlay: ov } = s;
  const { paths } = ov.config;
  const keep = new Set<string>();
  for (const a of s.journal?.plan.actions ?? []) if (a.kind === 'merge') keep.add(a.digest);
  if (paths.configMerge !== 'none' || paths.merge.length > 0) {
    const classes = readClasses(file).byPath;
    const classify = pathClassifier(ov.config.path, paths, { b0: classes, b1: classes });
    const wanted = (p: RelPath) => {
      const c = classify(p);
      return c.merge !== undefined && c.keep === undefined;
    };
    const entries = [...readManifest(file)].filter((e) => e.type === 'file' && e.size <= paths.mergeMaxSize && wanted(e.path));
    const r = captureBlobs(layout, baseDir, entries, () => true, paths.mergeMaxSize);
    for (const e of entries) keep.add(e.digest);
    if (r.stored > 0) s.log.info({ event: 'run.pristine', name: ov.name, stored: r.stored, bytes: r.bytes });
  }
  pruneBlobs(layout, keep);
}

