// After the mount: keep the manifest of the generation now recorded (the next reconcile's B0) in manifests/.
import fs from 'node:fs';
import path from 'node:path';
import { treeGeneration, type Generation } from '../observe/generation.js';
import { copyManifest } from '../manifest/copy.js';
import { manifestPath } from '../manifest/store.js';
import { ensureStateSubdir } from '../state/state-dir.js';
import type { OverlaySession } from '../txn/session.js';

export interface RecordOptions {
  /** Directory to index: the private base bind, so the mounted overlay is never read in its place. */
  readonly baseDir: string;
  readonly onProgress?: (done: number, total?: number) => void;
}

export interface Recorded {
  readonly file: string;
  /** False when the manifest was already kept (nothing done). */
  readonly built: boolean;
  readonly entries: number;
}

/** Drops manifests no state refers to any more. */
function pruneManifests(dir: string, keep: string): void {
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith('.manifest') && f !== keep) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/** True when the session's state already records gen with its manifest kept: nothing to record. */
export function isRecorded(s: OverlaySession, gen: Generation): boolean {
  const file = manifestPath(s.layout, gen.generation);
  return s.state !== null && s.state.generation === gen.generation && s.manifestFile === file && fs.existsSync(file);
}

/**
 * Makes sure state.json names a manifest of `gen` (the recorded generation): the shipped one copied, or
 * one built from the base now, reusing digests of the previous manifest for unchanged inodes.
 */
export async function recordManifest(s: OverlaySession, gen: Generation, opts: RecordOptions): Promise<Recorded> {
  const { layout, overlay: ov, log } = s;
  const file = manifestPath(layout, gen.generation);
  if (isRecorded(s, gen)) return { file, built: false, entries: 0 };
  ensureStateSubdir(layout, layout.manifestsDir);
  const started = Date.now();
  let entries = 0;
  if (!fs.existsSync(file)) {
    if (gen.shipped !== undefined) copyManifest(gen.shipped, file);
    else {
      const previous = s.manifestFile;
      const { buildManifest } = await import('../manifest/build.js');
      const r = await buildManifest(opts.baseDir, file, {
        ...(previous !== null && fs.existsSync(previous) ? { previous } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      entries = r.entries;
      // A base that changed while it was indexed is not the recorded generation: a manifest of it as B0
      // would hide that change from the next reconcile. Record none; the next reconcile treats the
      // recorded base as unknown (UnknownBase=), as after a reboot before the manifest was complete.
      if (gen.source === 'tree' && treeGeneration(opts.baseDir) !== gen.generation) {
        fs.rmSync(file, { force: true });
        log.warn({ event: 'warning', message: `the base changed while its manifest was built: no manifest recorded for ${gen.generation}`, path: opts.baseDir });
        return { file, built: false, entries: 0 };
      }
    }
  }
  s.updateState((state) => ({ ...state, generation: gen.generation, manifest: path.basename(file) }));
  pruneManifests(layout.manifestsDir, path.basename(file));
  log.info({ event: 'run.manifest', name: ov.name, generation: gen.generation, file, entries, ms: Date.now() - started });
  return { file, built: true, entries };
}
