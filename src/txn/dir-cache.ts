// Directory fds of the trees a plan acts in (the upper, the backup set), opened component by component
// without following symlinks and reused by the actions of one batch: one open per directory instead of
// one per component per action. Entries an action moves, renames or removes are forgotten with all
// their subtree, so a later action never reaches a path through a directory that left it.
import fs from 'node:fs';
import { ioError } from '../errors.js';
import { displayPath, isUnder, parentOf, toBytes, type RelPath } from '../model/entry.js';
import { DIR_FLAGS, closeQuietly, fdPath, isAbsent } from '../tree/fsat.js';

/** Handles kept between two actions at most; past that the cache starts afresh. */
const MAX_HANDLES = 512;

const show = (root: string, rel: RelPath) => `${root}/${displayPath(rel)}`;
const key = (root: string, rel: RelPath) => `${root}\0${rel}`;

function lastName(rel: RelPath): Buffer {
  return toBytes(rel.slice(rel.lastIndexOf('/') + 1));
}

export class DirCache {
  private readonly fds = new Map<string, { root: string; rel: RelPath; fd: number }>();

  /** An fd on root/rel (owned by the cache: never close it), or undefined when it does not exist. */
  open(root: string, rel: RelPath): number | undefined {
    const hit = this.fds.get(key(root, rel));
    if (hit !== undefined) return hit.fd;
    let fd: number;
    try {
      if (rel === '') fd = fs.openSync(root, DIR_FLAGS);
      else {
        const parent = this.open(root, parentOf(rel));
        if (parent === undefined) return undefined;
        fd = fs.openSync(fdPath(parent, lastName(rel)), DIR_FLAGS);
      }
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw ioError('open directory', show(root, rel), err);
    }
    this.fds.set(key(root, rel), { root, rel, fd });
    return fd;
  }

  /** mkdir -p of rel below root (new directories mode 0700), never through a symlink; root must exist. */
  ensure(root: string, rel: RelPath): number {
    const fd = this.open(root, rel);
    if (fd !== undefined) return fd;
    const parent = rel === '' ? undefined : this.ensure(root, parentOf(rel));
    try {
      if (parent === undefined) throw Object.assign(new Error('no such directory'), { code: 'ENOENT' });
      try {
        fs.mkdirSync(fdPath(parent, lastName(rel)), { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    } catch (err) {
      throw ioError('create directory', show(root, rel), err);
    }
    const made = this.open(root, rel);
    if (made === undefined) throw ioError('create directory', show(root, rel), Object.assign(new Error('vanished once created'), { code: 'ENOENT' }));
    return made;
  }

  /** root/rel moved, renamed or removed: its handle and those of its subtree are dropped. */
  forget(root: string, rel: RelPath): void {
    // Handles are opened through their parents': nothing below rel is cached unless rel is.
    if (!this.fds.has(key(root, rel))) return;
    for (const [k, h] of this.fds) {
      if (h.root === root && (h.rel === rel || (rel !== '' && isUnder(h.rel, rel)))) {
        closeQuietly(h.fd);
        this.fds.delete(k);
      }
    }
  }

  /** fsync of root/rel (nothing when it no longer exists). */
  sync(root: string, rel: RelPath): void {
    const fd = this.open(root, rel);
    if (fd === undefined) return;
    try {
      fs.fsyncSync(fd);
    } catch (err) {
      throw ioError('fsync directory', show(root, rel), err);
    }
  }

  get empty(): boolean {
    return this.fds.size === 0;
  }

  /** Between two actions: bounds the handles kept. */
  trim(): void {
    if (this.fds.size > MAX_HANDLES) this.close();
  }

  close(): void {
    for (const h of this.fds.values()) closeQuietly(h.fd);
    this.fds.clear();
  }
}
