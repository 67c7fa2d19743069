// Builds the manifest of a base tree: a streamed walk, content hashed on every core, digests reused
// from a previous manifest for inodes that did not change, written to a temp file then renamed.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import { displayPath, statAttrs, type BaseEntry, type EntryType, type RelPath } from '../model/entry.js';
import { fsyncDir, removeStaleTemps } from '../state/atomic.js';
import { FILE_FLAGS, closeQuietly, fdPath } from '../tree/fsat.js';
import { comparePaths } from '../model/order.js';
import { walk } from '../tree/walk.js';
import { digestOfSpecial } from '../tree/digest.js';
import type { PackageClasses } from '../model/package-class.js';
import { ManifestEncoder } from './encode.js';
import type { ManifestRecord, Stamp } from './format.js';
import { HashPool, NOT_A_FILE, type HashResult } from './pool.js';
import { manifestCount, readRecords } from './store.js';

export interface BuildOptions {
  /** A manifest of an earlier state of the same base: digests of unchanged inodes are reused. */
  previous?: string;
  /** Entries done so far, and the expected total when a previous manifest tells it. */
  onProgress?: (done: number, total?: number) => void;
  /** Entries left out with all below them: the mountpoints below the base (observe/submounts.ts). */
  skip?: (p: RelPath) => boolean;
  /** Hash worker threads (default: one per core). */
  threads?: number;
  /** The package classes of the base, read from the image's databases (observe/package-db.ts). */
  classes?: PackageClasses;
}

export interface BuildResult {
  entries: number;
  /** Bytes of file content read and hashed. */
  hashedBytes: number;
  reusedDigests: number;
  /** Size of the manifest file. */
  bytes: number;
}

/** Entries in flight between the walk and the writer: bounds memory and open fds. */
const WINDOW = 256;
const WRITE_CHUNK = 1 << 20;

interface Slot {
  entry: Omit<BaseEntry, 'digest'> & { digest?: string };
  stamp: Stamp;
  pending?: Promise<HashResult>;
  result?: HashResult;
}

/** A stamp is trustworthy only with an inode and a ctime: ctime moves on every change and cannot be set back. */
function sameInode(prev: ManifestRecord | undefined, path: RelPath, type: EntryType, size: number, stamp: Stamp): prev is ManifestRecord {
  return (
    prev !== undefined &&
    prev.entry.path === path &&
    prev.entry.type === type &&
    prev.entry.size === size &&
    prev.stamp.ino !== 0n &&
    prev.stamp.ctimeNs !== 0n &&
    prev.stamp.ino === stamp.ino &&
    prev.stamp.mtimeNs === stamp.mtimeNs &&
    prev.stamp.ctimeNs === stamp.ctimeNs
  );
}

function previousRecords(file: string | undefined): { next(path: RelPath): ManifestRecord | undefined; total?: number } {
  if (file === undefined || !fs.existsSync(file)) return { next: () => undefined };
  const count = manifestCount(file);
  const it = readRecords(file);
  let cur = it.next();
  return {
    total: count,
    next(p) {
      while (!cur.done && comparePaths(cur.value.entry.path, p) < 0) cur = it.next();
      return cur.done ? undefined : cur.value;
    },
  };
}

export async function buildManifest(baseDir: string, outFile: string, opts: BuildOptions = {}): Promise<BuildResult> {
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  let out: number;
  try {
    // Root's only: a manifest lists names inside private directories and digests of private files.
    out = fs.openSync(tmp, 'w', 0o600);
  } catch (err) {
    throw ioError('create', tmp, err);
  }
  const pool = new HashPool(opts.threads);
  const result: BuildResult = { entries: 0, hashedBytes: 0, reusedDigests: 0, bytes: 0 };
  const queue: Slot[] = [];
  const enc = new ManifestEncoder();
  let chunks: Buffer[] = [];
  let chunked = 0;
  let written = 0;
  const writeOut = (b: Buffer) => {
    for (let o = 0; o < b.length; ) o += fs.writeSync(out, b, o, b.length - o, written + o);
    written += b.length;
  };
  const flushChunks = () => {
    if (chunked === 0) return;
    writeOut(Buffer.concat(chunks, chunked));
    chunks = [];
    chunked = 0;
  };
  const emit = (slot: Slot) => {
    let digest = slot.entry.digest;
    if (slot.result !== undefined) {
      const where = `${baseDir}/${displayPath(slot.entry.path)}`;
      if ('error' in slot.result) {
        if (slot.result.error === NOT_A_FILE) throw new StateOverlayError('io', `${where}: replaced while being indexed`, { path: where });
        throw new StateOverlayError('io', `hash ${where}: ${slot.result.error}`, { path: where });
      }
      // Record what was hashed: the opened inode's own stat.
      const st = slot.result.st;
      slot.stamp = { ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
      Object.assign(slot.entry, statAttrs(st));
      digest = slot.result.digest;
      result.hashedBytes += slot.result.bytes;
    }
    const rec = enc.entry({ ...slot.entry, digest: digest ?? '' }, slot.stamp);
    chunks.push(rec);
    chunked += rec.length;
    if (chunked >= WRITE_CHUNK) flushChunks();
    result.entries++;
    if (opts.onProgress && result.entries % 1000 === 0) opts.onProgress(result.entries, prev.total);
  };
  const drain = async (limit: number) => {
    while (queue.length > limit) {
      const head = queue[0]!;
      if (head.pending && head.result === undefined) {
        pool.flush();
        head.result = await head.pending;
      }
      emit(queue.shift()!);
    }
  };
  const prev = previousRecords(opts.previous);
  let walkError: { path: RelPath; err: Error } | undefined;
  try {
    writeOut(enc.head(opts.classes));
    // A full index opens every file: open them as their directory is read (a re-index opens few).
    const openFiles = prev.total === undefined ? FILE_FLAGS : undefined;
    for (const w of walk(baseDir, { bigint: true, openFiles, skip: opts.skip ?? (() => false), onError: (p, err) => void (walkError ??= { path: p, err }) })) {
      const st = w.st;
      const stamp: Stamp = { ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
      const entry = { path: w.path, type: w.type, ...statAttrs(st) };
      const slot: Slot = { entry, stamp };
      // Files and symlinks keep their digest while the inode, mtime and ctime stay (a symlink's target
      // cannot change in place).
      const old = w.type === 'file' || w.type === 'symlink' ? prev.next(w.path) : undefined;
      if (sameInode(old, w.path, w.type, entry.size, stamp)) {
        slot.entry.digest = old.entry.digest;
        result.reusedDigests++;
      } else if (w.type === 'file') {
        let fd: number;
        try {
          fd = w.takeFd?.() ?? fs.openSync(fdPath(w.dirFd, w.name), FILE_FLAGS);
        } catch (err) {
          throw ioError('open', `${baseDir}/${displayPath(w.path)}`, err);
        }
        // The worker checks it is still a regular file, and its stat replaces the walk's (emit).
        slot.pending = pool.hash(fd);
        void slot.pending.then((r) => (slot.result = r));
      } else if (w.type === 'symlink') {
        slot.entry.digest = digestOfSpecial('symlink', st, fs.readlinkSync(fdPath(w.dirFd, w.name), { encoding: 'buffer' }));
      } else {
        slot.entry.digest = digestOfSpecial(w.type, st);
      }
      queue.push(slot);
      await drain(WINDOW);
    }
    await drain(0);
    if (walkError) {
      const where = `${baseDir}/${displayPath(walkError.path)}`;
      throw new StateOverlayError('io', `index ${baseDir}: cannot read ${where}`, { path: where, cause: walkError.err });
    }
    flushChunks();
    writeOut(enc.end());
    fs.fsyncSync(out);
    fs.closeSync(out);
    out = -1;
    fs.renameSync(tmp, outFile);
    fsyncDir(path.dirname(outFile));
    removeStaleTemps(path.dirname(outFile), /\.manifest\.tmp-(\d+)$/);
    result.bytes = written;
    opts.onProgress?.(result.entries, result.entries);
    return result;
  } catch (err) {
    if (out !== -1) closeQuietly(out);
    fs.rmSync(tmp, { force: true });
    if (err instanceof StateOverlayError) throw err;
    throw ioError('index', baseDir, err);
  } finally {
    await pool.close();
  }
}
