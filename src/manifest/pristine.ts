// Pristine copies: the base content of the files a later update may merge three ways (the paths under a
// merge driver, ConfigMerge= and Merge=, of at most MergeMaxSize= bytes), kept in the state dir by their
// sha256 (the manifest's own digest), so that the old base's content is there once the old base is gone.
// The same store holds a merge's result between its plan and its journaled write. Every blob read back is
// hashed again: one that does not match its name is not the content it claims and is never used.
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';
import type { RelPath } from '../model/entry.js';
import type { Layout } from '../paths/layout.js';
import { fsyncDir, writeFileAtomic } from '../state/atomic.js';
import { ensureStateSubdir } from '../state/state-dir.js';
import { FILE_FLAGS, closeQuietly, isAbsent } from '../tree/fsat.js';
import { sha256 } from '../tree/digest.js';
import { openBeneath } from '../tree/handles.js';
import type { ManifestEntry } from './format.js';

const DIGEST = /^[0-9a-f]{64}$/;

/** A directory of blobs named by their sha256, and how to make it. */
export interface BlobStore {
  readonly dir: string;
  make(): void;
}

/** The state dir's store (made as a state subdirectory, private). */
export const stateStore = (layout: Layout): BlobStore => ({ dir: layout.pristineDir, make: () => ensureStateSubdir(layout, layout.pristineDir) });

/** The image's store beside its shipped manifest (`NAME.pristine/`, `index --ship`). */
export const shippedStore = (layout: Layout): BlobStore => {
  const dir = layout.shippedManifest.replace(/\.manifest$/, '.pristine');
  return { dir, make: () => fs.mkdirSync(dir, { recursive: true, mode: 0o755 }) };
};

const blobFile = (store: BlobStore, digest: string): string => path.join(store.dir, digest);

/** Stores content durably under its digest (already there: nothing written); returns the digest. */
export function putBlob(store: BlobStore, content: Buffer): string {
  const digest = sha256(content);
  if (readBlob(store, digest) !== undefined) return digest;
  store.make();
  writeFileAtomic(blobFile(store, digest), content, 0o644);
  return digest;
}

/** The blob of digest, or undefined when the store lacks it or holds other bytes under its name. */
export function readBlob(store: BlobStore, digest: string): Buffer | undefined {
  if (!DIGEST.test(digest)) return undefined;
  let b: Buffer;
  try {
    b = fs.readFileSync(blobFile(store, digest));
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw ioError('read', blobFile(store, digest), err);
  }
  return sha256(b) === digest ? b : undefined;
}

/**
 * Reads root/rel (a regular file, no symlink followed on the way) whole when it has at most max bytes;
 * undefined when it is larger, or not a regular file.
 */
export function readCapped(root: string, rel: RelPath, max: number): Buffer | undefined {
  const fd = openBeneath(root, rel, FILE_FLAGS);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > max) return undefined;
    const b = Buffer.alloc(st.size);
    let n = 0;
    for (let r: number; n < b.length && (r = fs.readSync(fd, b, n, b.length - n, null)) > 0; ) n += r;
    // Grown since the fstat: more than the cap, or not the size recorded; either way not this content.
    return n === b.length && fs.readSync(fd, Buffer.alloc(1), 0, 1, null) === 0 ? b : undefined;
  } finally {
    closeQuietly(fd);
  }
}

export interface Captured {
  /** Blobs written now. */
  readonly stored: number;
  readonly bytes: number;
}

/**
 * Keeps in store the content of the entries (regular files of at most max bytes): from the store shipped
 * beside the image's manifest when it has them, else from the base at baseDir, each only when its bytes have
 * the manifest's digest (a file changed since it was indexed is not that generation's content). Unreadable
 * files are left out: a merge then says it has no copy.
 */
export function captureBlobs(store: BlobStore, baseDir: string, entries: Iterable<ManifestEntry>, max: number, shipped?: BlobStore): Captured {
  let stored = 0;
  let bytes = 0;
  for (const e of entries) {
    if (e.type !== 'file' || e.size > max || readBlob(store, e.digest) !== undefined) continue;
    let b: Buffer | undefined = shipped === undefined ? undefined : readBlob(shipped, e.digest);
    try {
      b ??= readCapped(baseDir, e.path, max);
    } catch {
      continue;
    }
    if (b === undefined || sha256(b) !== e.digest) continue;
    putBlob(store, b);
    stored++;
    bytes += b.length;
  }
  return { stored, bytes };
}

/** Removes the blobs whose digests are not in keep, and the other dot files (temp files writers left, old marks) but `mark`. */
export function pruneBlobs(store: BlobStore, keep: ReadonlySet<string>, mark?: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(store.dir);
  } catch (err) {
    if (isAbsent(err)) return 0;
    throw ioError('read', store.dir, err);
  }
  let removed = 0;
  for (const n of names) {
    if (keep.has(n) || n === mark || (!DIGEST.test(n) && !n.startsWith('.'))) continue;
    fs.rmSync(path.join(store.dir, n), { force: true });
    removed++;
  }
  if (removed > 0) fsyncDir(store.dir);
  return removed;
}
