// Oracle harness: the same package upgrade done by a real package manager in a scratch root, and by our
// reconcile with the same user edits made through a real overlay mount. Each version is an image: a root
// the package manager installed it into (its database included), indexed with `index --ship`, so that
// the host reconciles from the two shipped manifests' classes alone, with no package database of its own.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { defaultConfig, type OverlayConfig } from '../../src/config/schema.js';
import { run } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { copyManifest } from '../../src/manifest/copy.js';
import { manifestPath } from '../../src/manifest/store.js';
import { manifestGeneration } from '../../src/observe/generation.js';
import { indexOverlay } from '../../src/ops/index.js';
import { reconcileOverlay, type ReconcileReport } from '../../src/ops/reconcile.js';
import type { Overlay } from '../../src/overlay/overlay.js';
import { layoutFor } from '../../src/paths/layout.js';
import { ensureStateSubdir } from '../../src/state/state-dir.js';
import { writeState } from '../../src/state/state-file.js';
import { walk } from '../../src/tree/walk.js';

export const PKG = 'sotest';
/** Where the toy packages put their files, inside the overlay's mountpoint /opt. */
export const PKG_DIR = `opt/${PKG}`;

export interface Version {
  readonly version: string;
  /** Path below /opt/sotest → content; '-> target' makes a symlink. */
  readonly files: Readonly<Record<string, string>>;
  /** Directories below /opt/sotest → mode, where it is not 0755. */
  readonly dirs?: Readonly<Record<string, number>>;
}

/**
 * Every situation of the oracle matrix for each class prefix given (and for plain files, symlinks and
 * directories): v1's files, v2's (absent: not shipped), and the host's edits between the two.
 */
export function matrix(prefixes: readonly string[]): { v1: Record<string, string>; v2: Record<string, string>; edits: Record<string, string | null> } {
  const v1: Record<string, string> = {};
  const v2: Record<string, string> = {};
  const edits: Record<string, string | null> = {};
  const add = (p: string, a: string | undefined, b: string | undefined, edit?: string | null) => {
    if (a !== undefined) v1[p] = a;
    if (b !== undefined) v2[p] = b;
    if (edit !== undefined) edits[p] = edit;
  };
  const situations = (p: string) => {
    add(`${p}-edited-changed`, `${p} v1\n`, `${p} v2\n`, 'local edit\n');
    add(`${p}-edited-same`, `${p} same\n`, `${p} same\n`, 'local edit\n');
    add(`${p}-untouched-changed`, `${p} v1\n`, `${p} v2\n`);
    add(`${p}-untouched-same`, `${p} same\n`, `${p} same\n`);
    add(`${p}-deleted-changed`, `${p} v1\n`, `${p} v2\n`, null);
    add(`${p}-deleted-same`, `${p} same\n`, `${p} same\n`, null);
    add(`${p}-edited-to-new`, `${p} v1\n`, `${p} v2\n`, `${p} v2\n`);
    add(`${p}-removed-edited`, `${p} v1\n`, undefined, 'local edit\n');
    add(`${p}-removed-untouched`, `${p} v1\n`, undefined);
    add(`${p}-added-over-host`, undefined, `${p} v2\n`, 'host file\n');
  };
  for (const p of prefixes) situations(p);
  situations('bin/plain');
  add('bin/added', undefined, 'added v2\n');
  add('share/link-changed', '-> t1', '-> t2');
  add('share/link-same', '-> t', '-> t');
  add('share/link-removed', '-> t', undefined);
  add('share/link-added', undefined, '-> t');
  // A directory the new version removes, with host state inside; one whose mode changes.
  add('share/olddir/f', 'old v1\n', undefined);
  add('share/olddir/state', undefined, undefined, 'host state\n');
  add('share/moddir/f', 'mod\n', 'mod\n');
  add('var/state', undefined, undefined, 'host state\n');
  return { v1, v2, edits };
}

/** The directory modes of the matrix: share/olddir only in v1, share/moddir 0755 → 0700. */
export const MATRIX_DIRS = { v1: { 'share/olddir': 0o755, 'share/moddir': 0o755 }, v2: { 'share/moddir': 0o700 } } as const;

/** A user's changes to the installed tree (null: delete), applied to a live directory (a package root or a mounted overlay). */
export type Edits = Readonly<Record<string, string | null>>;

export function applyEdits(dir: string, edits: Edits): void {
  for (const [rel, content] of Object.entries(edits)) {
    const p = path.join(dir, rel);
    // A file the package manager never installed (%ghost) is deleted as a no-op, on both sides.
    if (content === null) fs.rmSync(p, { force: true });
    else {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    }
  }
}

/** Writes a version's files below dir/opt/sotest. */
export function writeFiles(dir: string, v: Version): void {
  for (const [rel, content] of Object.entries(v.files)) {
    const p = path.join(dir, PKG_DIR, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (content.startsWith('-> ')) fs.symlinkSync(content.slice(3), p);
    else fs.writeFileSync(p, content, { mode: 0o644 });
  }
  for (const [rel, mode] of Object.entries(v.dirs ?? {})) {
    fs.mkdirSync(path.join(dir, PKG_DIR, rel), { recursive: true });
    fs.chmodSync(path.join(dir, PKG_DIR, rel), mode);
  }
}

/** Path → content (files), '-> target' (symlinks) or '<dir MODE>' of every entry below dir. */
export function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of walk(dir)) {
    const full = path.join(dir, e.path);
    if (e.type === 'file') out[e.path] = fs.readFileSync(full, 'utf8');
    else if (e.type === 'symlink') out[e.path] = `-> ${fs.readlinkSync(full)}`;
    else out[e.path] = `<${e.type} ${(e.st.mode & 0o7777).toString(8)}>`;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** One version installed by the package manager into a root of its own, and that root's shipped manifest. */
export interface Image {
  readonly root: string;
  readonly manifest: string;
}

type Over = Partial<Omit<OverlayConfig, 'paths'>> & { paths?: Partial<OverlayConfig['paths']> };

/** The overlay of mountpoint /MOUNT (opt, etc) under a --root. */
function overlayAt(root: string, mount: string, over: Over = {}): Overlay {
  const d = defaultConfig(mount, `/${mount}`);
  const config: OverlayConfig = { ...d, ...over, paths: { ...d.paths, ...over.paths } };
  return { name: mount, config, layout: layoutFor(root, mount, `/${mount}`), base: path.join(root, mount) };
}

/** `index --ship` in an image root: the manifest with the classes of the image's own database. */
export async function shipImage(root: string, mount: string, configFrom: OverlayConfig['paths']['configFrom']): Promise<Image> {
  const ov = overlayAt(root, mount, { paths: { configFrom } });
  fs.mkdirSync(path.dirname(ov.layout.shippedManifest), { recursive: true });
  const r = await indexOverlay(ov, memoryLog(), { ship: true });
  return { root, manifest: r.manifest };
}

async function mountOver(ov: Overlay): Promise<void> {
  const { upper, work, target } = ov.layout;
  fs.mkdirSync(upper, { recursive: true });
  fs.mkdirSync(work, { recursive: true });
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${target},upperdir=${upper},workdir=${work},index=off,metacopy=off,redirect_dir=off,xino=off`, target]);
}

/** The image's base and shipped manifest put in place on the host, as booting that image would. */
async function boot(ov: Overlay, image: Image, mount: string): Promise<void> {
  const target = ov.layout.target;
  await run('rm', ['-rf', '--one-file-system', '--', target]);
  fs.mkdirSync(target, { recursive: true });
  await run('cp', ['-a', '--', `${path.join(image.root, mount)}/.`, target]);
  fs.mkdirSync(path.dirname(ov.layout.shippedManifest), { recursive: true });
  fs.copyFileSync(image.manifest, ov.layout.shippedManifest);
}

/**
 * Our side, on a host root with no package database: image `from` booted and recorded (its shipped
 * manifest kept as the state dir's copy, as run does), the edits made below /MOUNT/DIR through the
 * mounted overlay, image `to` booted, a reconcile, and the merged view of /MOUNT/DIR read through a new mount.
 */
export async function ours(root: string, from: Image, to: Image, edits: Edits, over: Over, where: { mount: string; dir: string } = { mount: 'opt', dir: PKG }): Promise<{ merged: Record<string, string>; report: ReconcileReport }> {
  const ov = overlayAt(root, where.mount, over);
  const { layout } = ov;
  await boot(ov, from, where.mount);
  ensureStateSubdir(layout, layout.manifestsDir);
  const generation = manifestGeneration(layout.shippedManifest);
  const kept = manifestPath(layout, generation);
  copyManifest(layout.shippedManifest, kept);
  writeState(layout, { schemaVersion: 1, generation, manifest: path.basename(kept), lastReconcile: null });
  await mountOver(ov);
  try {
    applyEdits(path.join(layout.target, where.dir), edits);
  } finally {
    await run('umount', [layout.target]);
  }
  await boot(ov, to, where.mount);
  const report = await reconcileOverlay(ov, memoryLog());
  await mountOver(ov);
  try {
    return { merged: contents(path.join(layout.target, where.dir)), report };
  } finally {
    await run('umount', [layout.target]);
  }
}

/** A path where the design knowingly differs from the package manager: both results, and why. */
export interface KnownDifference {
  readonly theirs: string | undefined;
  readonly ours: string | undefined;
  readonly why: string;
}

/** Our merged tree equals the package manager's everywhere but at the known differences, which hold as stated. */
export function expectSameExceptKnown(merged: Record<string, string>, theirs: Record<string, string>, known: Record<string, KnownDifference>): void {
  const without = (tree: Record<string, string>) => Object.fromEntries(Object.entries(tree).filter(([p]) => !(p in known)));
  expect(without(merged)).toEqual(without(theirs));
  for (const [p, k] of Object.entries(known)) {
    expect([p, 'theirs', theirs[p]]).toEqual([p, 'theirs', k.theirs]);
    expect([p, 'ours', merged[p]]).toEqual([p, 'ours', k.ours]);
  }
}
