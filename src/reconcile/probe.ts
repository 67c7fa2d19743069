// Stat and digest of many paths of one tree, reusing O_PATH handles of their parent directories (opened
// component by component without following symlinks): one lstat per path instead of one open per component.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { digestOfSpecial, hashFd } from '../manifest/digest.js';
import { displayPath, parentOf, type BaseEntry, type RelPath } from '../model/entry.js';
import { FILE_FLAGS, O_PATH, closeQuietly, components, entryType, fdPath, isAbsent } from '../tree/fsat.js';

const DIR_HANDLE = O_PATH | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
/** Open directory handles kept at most (a pre-order walk needs about its depth). */
const MAX_HANDLES = 512;
const BUF = Buffer.alloc(1 << 20);

export class TreeProbe {
  private readonly dirs = new Map<RelPath, number | null>();

  constructor(private readonly root: string) {}

  /** An O_PATH handle on root/rel when it is a directory reached without symlinks, else null. */
  private dirFd(rel: RelPath): number | null {
    const hit = this.dirs.get(rel);
    if (hit !== undefined) return hit;
    if (this.dirs.size >= MAX_HANDLES) this.close();
    let fd: number | null = null;
    try {
      if (rel === '') fd = fs.openSync(this.root, O_PATH | fs.constants.O_DIRECTORY);
      else {
        const parent = this.dirFd(parentOf(rel));
        const name = components(rel).pop();
        if (parent !== null && name !== undefined) fd = fs.openSync(fdPath(parent, name), DIR_HANDLE);
      }
    } catch (err) {
      if (!isAbsent(err)) throw ioError('open directory', `${this.root}/${displayPath(rel)}`, err);
    }
    this.dirs.set(rel, fd);
    return fd;
  }

  private at(rel: RelPath): Buffer | undefined {
    const parts = components(rel);
    const name = parts[parts.length - 1];
    if (name === undefined) return undefined;
    const parent = this.dirFd(parentOf(rel));
    return parent === null ? undefined : fdPath(parent, name);
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

  /** The entry at rel as a manifest records it (digest included), or undefined. */
  entry(rel: RelPath, st: fs.Stats | undefined = this.lstat(rel)): BaseEntry | undefined {
    if (st === undefined) return undefined;
    const type = entryType(st);
    const where = `${this.root}/${displayPath(rel)}`;
    let digest: string;
    try {
      if (type === 'file') {
        const fd = fs.openSync(this.at(rel)!, FILE_FLAGS);
        try {
          const fst = fs.fstatSync(fd);
          if (fst.ino !== st.ino || !fst.isFile()) throw new StateOverlayError('io', `${where}: replaced while being hashed`, { path: where });
          digest = hashFd(fd, BUF, fs, crypto)[0];
        } finally {
          closeQuietly(fd);
        }
      } else digest = digestOfSpecial(type, st, type === 'symlink' ? fs.readlinkSync(this.at(rel)!, { encoding: 'buffer' }) : undefined);
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('hash', where, err);
    }
    return { path: rel, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size, digest };
  }

  close(): void {
    for (const fd of this.dirs.values()) if (fd !== null) closeQuietly(fd);
    this.dirs.clear();
  }
}
