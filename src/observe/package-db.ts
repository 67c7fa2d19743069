// The package classes of a base (ConfigFrom=): read from the image's dpkg and rpm databases when a
// manifest is built, and from each generation's manifest when a reconcile needs them, so that a booted
// host needs neither the databases of past images nor the rpm binary.
import fs from 'node:fs';
import type { ConfigFrom } from '../config/schema.js';
import { readClasses } from '../manifest/store.js';
import { relPath, type RelPath } from '../model/entry.js';
import { NO_CLASSES, mergeClass, type GenerationClasses, type PackageClass, type PackageClasses, type PackageDb } from '../model/package-class.js';
import { hasDpkgDb, loadDpkgClasses } from './conffiles.js';
import { loadRpmClasses, rpmDbPath } from './rpmdb.js';

/** What a manifest without class records means for a reconcile, and how to change that. */
export const OLD_MANIFEST_NOTE = 'the recorded manifest predates package classes: the recorded base\'s config files come from the [Paths] globs only (re-ship the manifest with `state-overlay index --ship` to record them)';

/** The databases ConfigFrom= reads under ROOT: auto takes whichever the image has. */
function databases(root: string, from: ConfigFrom): PackageDb[] {
  if (from === 'none') return [];
  if (from !== 'auto') return [from];
  return [...(hasDpkgDb(root) ? ['dpkg' as const] : []), ...(rpmDbPath(root) !== undefined ? ['rpm' as const] : [])];
}

/**
 * The classes the databases ConfigFrom= names give the paths below mountpoint, relative to it (as a
 * manifest's entries are). ConfigFrom=none reads nothing and records nothing.
 */
export async function readPackageDbs(root: string, mountpoint: string, from: ConfigFrom): Promise<PackageClasses> {
  if (from === 'none') return NO_CLASSES;
  const dbs = databases(root, from);
  const prefix = `${Buffer.from(mountpoint.replace(/\/+$/, ''), 'utf8').toString('latin1')}/`;
  const byPath = new Map<RelPath, PackageClass>();
  for (const db of dbs) {
    const found = db === 'dpkg' ? loadDpkgClasses(root) : await loadRpmClasses(root);
    for (const [abs, c] of found) {
      if (!abs.startsWith(prefix) || abs.length === prefix.length) continue;
      const rel = relPath(abs.slice(prefix.length).replace(/\/+$/, ''));
      const had = byPath.get(rel);
      byPath.set(rel, had ? mergeClass(had, c) : c);
    }
  }
  return { dbs, byPath };
}

/**
 * The classes of one generation: those its manifest records, else (live: the current base, whose image
 * is the one booted) the databases under ROOT. A recorded manifest without classes gives none: its
 * image's databases are gone.
 */
async function generationClasses(manifest: string | null, live: { root: string; mountpoint: string; from: ConfigFrom } | null): Promise<PackageClasses> {
  const recorded = manifest !== null && fs.existsSync(manifest) ? readClasses(manifest) : NO_CLASSES;
  if (recorded.dbs !== null || live === null) return recorded;
  return readPackageDbs(live.root, live.mountpoint, live.from);
}

export interface ClassesQuery {
  /** The recorded generation's manifest (state dir), or null. */
  readonly b0Manifest: string | null;
  /** The current base's own manifest (shipped), or null: its classes come from the live databases. */
  readonly current: string | null;
  readonly root: string;
  readonly mountpoint: string;
  readonly from: ConfigFrom;
}

/**
 * The package classes of both generations for a reconcile or a diff (undefined under ConfigFrom=none).
 * b0Unrecorded: the recorded manifest exists but predates classes (OLD_MANIFEST_NOTE).
 */
export async function classesOfGenerations(q: ClassesQuery): Promise<{ classes: GenerationClasses | undefined; b0Unrecorded: boolean }> {
  if (q.from === 'none') return { classes: undefined, b0Unrecorded: false };
  const b0 = await generationClasses(q.b0Manifest, null);
  const b1 = await generationClasses(q.current, { root: q.root, mountpoint: q.mountpoint, from: q.from });
  const b0Unrecorded = q.b0Manifest !== null && b0.dbs === null && fs.existsSync(q.b0Manifest);
  return { classes: { b0: b0.byPath, b1: b1.byPath }, b0Unrecorded };
}
