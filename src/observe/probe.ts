// Stat, overlay xattrs and digest of many paths of one tree, reusing O_PATH handles of their parent
// directories (opened component by component without following symlinks): one lstat per path instead of
// one open per component.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { digestOfSpecial, hashFd } from '../manifest/digest.js';
import { displayPath, isUnder, type BaseEntry, type RelPath } from '../model/entry.js';
import { FILE_FLAGS, O_PATH, closeQuietly, entryType, isAbsent } from '../tree/fsat.js';
import { overlayXattrsOfEntry, type OverlayXattrs } from '../tree/xattr.js';

const DIR_HANDLE = O_PATH | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
/** Open directory handles kept beyond the ancestors of the path asked for (a pre-order walk needs its depth). */
const MAX_HANDLES = 512;
const BUF = Buffer.alloc(1 << 20);

/** The parent and last component of a path from a walk or a manifest; '', '.' and '..' never name an entry. */
function split(rel: RelPath): [RelPath, string] | undefined {
  const i = rel.lastIndexOf('/');
  const name = rel.slice(i + 1);
  return name === '' || name === '.' || name === '..' ? undefined : [i < 0 ? '' : rel.slice(0, i), name];
}

/** `/proc/self/fd/DIRFD/NAME` as bytes (name a binary string). */
const fdName = (dirFd: number, name: string): Buffer => Buffer.from(`/proc/self/fd/${dirFd}/${name}`, 'latin1');

export class TreeProbe {
  private readonly dirs = new Map<RelPath, number | null>();
  /** Handle count at which the cache is trimmed to the ancestors of the path being opened. */
  private limit = MAX_HANDLES;

  constructor(private readonly root: string) {}

  /** An O_PATH handle on root/rel when it is a directory reached without symlinks, else null. */
  private dirFd(rel: RelPath): number | null {
    const hit = this.dirs.get(rel);
    if (hit !== undefined) return hit;
    if (this.dirs.size >= this.limit) this.trim(rel);
    let fd: number | null = null;
    try {
      if (rel === '') fd = fs.openSync(this.root, O_PATH | fs.constants.O_DIRECTORY);
      else {
        const at = this.at(rel);
        if (at !== undefined) fd = fs.openSync(at, DIR_HANDLE);
      }
    } catch (err) {
      if (!isAbsent(err)) throw ioError('open directory', `${this.root}/${displayPath(rel)}`, err);
    }
    this.dirs.set(rel, fd);
    return fd;
  }

  /**
   * Closes every handle but those on rel's ancestors, which the open about to happen reuses. The next trim
   * waits for MAX_HANDLES more opens: on a tree deeper than that, the kept ancestors alone exceed it.
   */
  private trim(rel: RelPath): void {
    for (const [p, fd] of this.dirs) {
      if (p === '' || isUnder(rel, p)) continue;
      if (fd !== null) closeQuietly(fd);
      this.dirs.delete(p);
    }
    this.limit = this.dirs.size + MAX_HANDLES;
  }

  /** root/rel as `/proc/self/fd/PARENT/NAME`, or undefined when its parent is not a directory reached without symlinks. */
  private at(rel: RelPath): Buffer | undefined {
    const parts = split(rel);
    if (parts === undefined) return undefined;
    const parent = this.dirFd(parts[0]);
    return parent === null ? undefined : fdName(parent, parts[1]);
  }

  /** lstat of root/rel, or undefined when absent (or below a symlink or a non-directory). */
  lstat(rel: RelPath): fs.Stats | undefined {
    const p = this.at(rel);
    if (p === undefined) return undefined;
    try {
      return fs.lstatSync(p);
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw ioError('lstat', `${this.root}/${displayPath(rel)}`, err);
    }
  }

  /** Overlay xattrs of root/rel (the entry itself, never a symlink's target). */
  xattrs(rel: RelPath): OverlayXattrs {
    const at = this.at(rel);
    try {
      if (at === undefined) throw Object.assign(new Error('no such directory'), { code: 'ENOENT' });
      return overlayXattrsOfEntry(at);
    } catch (err) {
      throw ioError('read overlay xattrs of', `${this.root}/${displayPath(rel)}`, err);
    }
  }

  /** The digest of the entry at rel, whose lstat is st (content read for files, target for symlinks). */
  digest(rel: RelPath, st: Pick<fs.Stats, 'mode' | 'ino' | 'rdev'>): string {
    const type = entryType(st);
    const where = `${this.root}/${displayPath(rel)}`;
    try {
      if (type !== 'file') return digestOfSpecial(type, st, type === 'symlink' ? fs.readlinkSync(this.at(rel)!, { encoding: 'buffer' }) : undefined);
      const fd = fs.openSync(this.at(rel)!, FILE_FLAGS);
      try {
        const fst = fs.fstatSync(fd);
        if (fst.ino !== st.ino || !fst.isFile()) throw new StateOverlayError('io', `${where}: replaced while being hashed`, { path: where });
        return hashFd(fd, BUF, fs, crypto)[0];
      } finally {
        closeQuietly(fd);
      }
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('hash', where, err);
    }
  }

  /**
   * The entry at rel as a manifest records it, or undefined. digest: the digest to record instead of
   * reading the content (see unhashed()); computed when omitted.
   */
  entry(rel: RelPath, st: fs.Stats | undefined = this.lstat(rel), digest?: string): BaseEntry | undefined {
    if (st === undefined) return undefined;
    return { path: rel, type: entryType(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size, digest: digest ?? this.digest(rel, st) };
  }

  close(): void {
    for (const fd of this.dirs.values()) if (fd !== null) closeQuietly(fd);
    this.dirs.clear();
    this.limit = MAX_HANDLES;
  }
}
