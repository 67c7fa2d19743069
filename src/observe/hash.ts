// Stat and digest chosen paths of a live tree (B1 of shadowed paths, digests of upper shadows),
// without following a symlink anywhere below the root.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { displayPath, joinRel, type BaseEntry, type RelPath } from '../model/entry.js';
import { FILE_FLAGS, O_PATH, atParent, closeQuietly, entryType, fdPath, isAbsent, openBeneath } from '../tree/fsat.js';
import { walk } from '../tree/walk.js';
import { digestOfSpecial, hashFd } from '../manifest/digest.js';

const BUF = Buffer.alloc(1 << 20);

function digestOpenFile(fd: number): [string, number] {
  return hashFd(fd, BUF, fs, crypto);
}

/** Digest of rootDir/rel given its lstat (content read for files, target for symlinks, rdev for devices). */
export function digestEntry(rootDir: string, rel: RelPath, st: fs.Stats | fs.BigIntStats): string {
  const where = `${rootDir}/${displayPath(rel)}`;
  const type = entryType(st);
  try {
    if (type === 'symlink') return digestOfSpecial(type, st, atParent(rootDir, rel, (d, n) => fs.readlinkSync(fdPath(d, n), { encoding: 'buffer' })));
    if (type !== 'file') return digestOfSpecial(type, st);
    const fd = openBeneath(rootDir, rel, FILE_FLAGS);
    try {
      const fst = fs.fstatSync(fd, { bigint: true });
      if (fst.ino !== BigInt(st.ino) || !fst.isFile()) {
        throw new StateOverlayError('io', `${where}: replaced while being hashed`, { path: where });
      }
      return digestOpenFile(fd)[0];
    } finally {
      closeQuietly(fd);
    }
  } catch (err) {
    if (err instanceof StateOverlayError) throw err;
    throw ioError('hash', where, err);
  }
}

/** The base entry at rootDir/rel (stat + digest), or undefined when there is none. */
export function entryAt(rootDir: string, rel: RelPath): BaseEntry | undefined {
  let st: fs.Stats;
  try {
    st = atParent(rootDir, rel, (d, n) => fs.lstatSync(fdPath(d, n)));
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw ioError('lstat', `${rootDir}/${displayPath(rel)}`, err);
  }
  return {
    path: rel,
    type: entryType(st),
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    digest: digestEntry(rootDir, rel, st),
  };
}

/** Stat and digest of the chosen paths; absent paths (or paths under a symlink or non-directory) are omitted. */
export function hashPaths(rootDir: string, paths: Iterable<RelPath>): Map<RelPath, BaseEntry> {
  const out = new Map<RelPath, BaseEntry>();
  for (const p of paths) {
    if (out.has(p)) continue;
    const e = entryAt(rootDir, p);
    if (e !== undefined) out.set(p, e);
  }
  return out;
}

/** Every entry strictly below rootDir/dir, stat and digest, paths relative to rootDir; none when dir is not a directory. */
export function subtreeEntries(rootDir: string, dir: RelPath): BaseEntry[] {
  let fd: number;
  try {
    fd = openBeneath(rootDir, dir, O_PATH | fs.constants.O_DIRECTORY);
  } catch (err) {
    if (isAbsent(err)) return [];
    throw ioError('open', `${rootDir}/${displayPath(dir)}`, err);
  }
  try {
    const sub = `/proc/self/fd/${fd}`;
    const out: BaseEntry[] = [];
    const onError = (p: RelPath, err: Error) => {
      throw ioError('read', `${rootDir}/${displayPath(joinRel(dir, p))}`, err);
    };
    for (const e of walk(sub, { onError })) {
      out.push({ path: joinRel(dir, e.path), type: e.type, mode: e.st.mode & 0o7777, uid: e.st.uid, gid: e.st.gid, size: e.st.size, digest: digestEntry(sub, e.path, e.st) });
    }
    return out;
  } finally {
    closeQuietly(fd);
  }
}
