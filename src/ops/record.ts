// After the mount: keep the manifest of the generation now recorded (the next reconcile's B0) in manifests/.
import fs from 'node:fs';
import path from 'node:path';
import { displayPath, type RelPath } from '../model/entry.js';
import { treeGeneration, type Generation } from '../observe/generation.js';
import { baseSkip, baseSubmounts } from '../observe/submounts.js';
import { copyManifest } from '../manifest/copy.js';
import type { BuildResult } from '../manifest/build.js';
import type { PackageClasses } from '../model/package-class.js';
import type { Overlay } from '../overlay/overlay.js';
import { manifestPath } from '../manifest/store.js';
import { mergesConfigured, pristineMark } from '../manifest/pristine-mark.js';
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

/**
 * Writes the manifest of generation gen to file: the shipped one copied when the generation names one
 * (nothing hashed), else built from baseDir, reusing the digests of the first of `previous` that exists.
 * The one choice of manifest of `run` (after the mount) and `index`.
 */
export async function keepManifest(
  gen: Generation,
  file: string,
  baseDir: string,
  previous: readonly (string | null)[],
  onProgress?: (done: number, total?: number) => void,
  skip?: (p: RelPath) => boolean,
  /** The package classes to record (ConfigFrom=): what the databases under the root say now. */
  classesOf?: () => Promise<PackageClasses>,
): Promise<BuildResult> {
  if (gen.shipped !== undefined) return { ...copyManifest(gen.shipped, file), hashedBytes: 0, reusedDigests: 0 };
  const prev = previous.find((f): f is string => f !== null && fs.existsSync(f));
  // Loaded only to build: an unchanged base never pays for the indexer.
  const { buildManifest } = await import('../manifest/build.js');
  const classes = classesOf ? await classesOf() : undefined;
  return buildManifest(baseDir, file, { ...(prev ? { previous: prev } : {}), ...(onProgress ? { onProgress } : {}), ...(skip ? { skip } : {}), ...(classes ? { classes } : {}) });
}

/** Reads the package classes of the databases under the overlay's root that ConfigFrom= names, when a manifest is built. */
export const classesReader = (ov: Overlay) => async (): Promise<PackageClasses> => {
  const { readPackageDbs } = await import('../observe/package-db.js');
  return readPackageDbs(ov.layout.root, ov.config.path, ov.config.paths.configFrom);
};

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
  if (isRecorded(s, gen)) {
    // Recorded before a merge driver applied (or another one): its copies are kept now, once.
    if (mergesConfigured(ov.config) && !fs.existsSync(pristineMark(layout, ov.config, file))) {
      const { keepPristine } = await import('./pristine.js');
      keepPristine(s, file, opts.baseDir);
    }
    return { file, built: false, entries: 0 };
  }
  ensureStateSubdir(layout, layout.manifestsDir);
  const started = Date.now();
  let entries = 0;
  if (!fs.existsSync(file)) {
    const submounts = baseSubmounts(ov);
    const skip = baseSkip(ov);
    if (submounts.length > 0) {
      log.warn({ event: 'warning', message: `mounted below the base, and not part of it (the overlay's lower does not show them): ${submounts.map((m) => `${ov.config.path.replace(/\/+$/, '')}/${displayPath(m)}`).join(', ')}`, path: ov.base });
    }
    const r = await keepManifest(gen, file, opts.baseDir, [s.manifestFile], opts.onProgress, skip, classesReader(ov));
    // run.manifest counts the entries indexed here: none for a shipped manifest, copied as it is.
    entries = gen.shipped === undefined ? r.entries : 0;
    // A base that changed while it was indexed is not the recorded generation: a manifest of it as B0
    // would hide that change from the next reconcile. Record none; the next reconcile treats the
    // recorded base as unknown (UnknownBase=), as after a reboot before the manifest was complete.
    if (gen.shipped === undefined && gen.source === 'tree' && treeGeneration(opts.baseDir, skip) !== gen.generation) {
      fs.rmSync(file, { force: true });
      log.warn({ event: 'warning', message: `the base changed while its manifest was built: no manifest recorded for ${gen.generation}`, path: opts.baseDir });
      return { file, built: false, entries: 0 };
    }
  }
  s.updateState((state) => ({ ...state, generation: gen.generation, manifest: path.basename(file) }));
  pruneManifests(layout.manifestsDir, path.basename(file));
  // Loaded only where merges are configured, or were (their copies to drop).
  if (mergesConfigured(ov.config) || fs.existsSync(layout.pristineDir)) {
    const { keepPristine } = await import('./pristine.js');
    keepPristine(s, file, opts.baseDir);
  }
  log.info({ event: 'run.manifest', name: ov.name, generation: gen.generation, file, entries, ms: Date.now() - started });
  return { file, built: true, entries };
}
