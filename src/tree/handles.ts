// The one handle type on a tree: directory fds of one root, opened component by component without
// following a symlink and cached by relative path; every entry is reached from its parent's handle, by
// openat of its name or as /proc/self/fd/PARENT/NAME (one lookup, whatever its depth, past PATH_MAX too).
// Readers (the upper, the bases) use 'read' handles (O_PATH: stat, xattrs, content through a fresh open);
// the executor uses 'write' handles (O_RDONLY: fsync, fchmod, fchown) and makes directories with ensure().
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { TREE_ROOT, displayPath, isUnder, parentOf, relPath, statAttrs, toBytes, type BaseEntry, type Digest, type RelPath } from '../model/entry.js';
import { digestOfSpecial, hashFd } from './digest.js';
import { DIR_FLAGS, FILE_FLAGS, O_PATH, closeQuietly, entryType, fdPath, isAbsent, openIn } from './fsat.js';
import { listXattrAt } from '../native/syscalls.js';
import { identityXattrsOfEntry, identityXattrsOfFd, isOverlayXattr, overlayXattrsOfEntry, type OverlayXattrs, type XattrNamespace } from './xattr.js';

/** Handles kept beyond the ancestors of the path being opened (a pre-order walk needs its depth). */
const MAX_HANDLES = 512;
const BUF = Buffer.alloc(1 << 20);
/** identityXattrs' listings first that may all find xattrs of the entry's own before it stops listing first. */
const LIST_FIRST_TRIES = 64;

const FLAGS = {
  read: { root: O_PATH | fs.constants.O_DIRECTORY, child: O_PATH | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW },
  // The root of a tree the executor changes is never reached through a symlink either.
  write: { root: DIR_FLAGS, child: DIR_FLAGS },
} as const;

/** The last component of an entry path; '', '.' and '..' never name an entry. */
function lastName(rel: RelPath): RelPath | undefined {
  const name = relPath(rel.slice(rel.lastIndexOf('/') + 1));
  return name === '' || name === '.' || name === '..' ? undefined : name;
}

type Absent = NodeJS.ErrnoException;
const absentError = (rel: RelPath): Absent => Object.assign(new Error(`invalid entry path ${JSON.stringify(displayPath(rel))}`), { code: 'ENOENT' });

export class DirHandles {
  /** Directory handles by path, or why there is none (read handles: absences are remembered too). */
  private readonly fds = new Map<RelPath, number | Absent>();
  /** Handle count at which the cache is trimmed to the ancestors of the path being opened. */
  private limit = MAX_HANDLES;
  /** identityXattrs' listings without an open: how many were made, how many found no xattr of the entry's own. */
  private readonly listings = { tried: 0, none: 0 };

  constructor(
    readonly root: string,
    private readonly mode: 'read' | 'write' = 'read',
  ) {}

  private where(rel: RelPath): string {
    return rel === '' ? this.root : `${this.root}/${displayPath(rel)}`;
  }

  /** A handle on root/rel when it is a directory reached without symlinks, else undefined. Owned by the cache. */
  dir(rel: RelPath): number | undefined {
    const fd = this.lookup(rel);
    return typeof fd === 'number' ? fd : undefined;
  }

  /** The handle on root/rel, or the errno error (ENOENT, ENOTDIR, ELOOP) that says why there is none. */
  private lookup(rel: RelPath): number | Absent {
    const hit = this.fds.get(rel);
    if (hit !== undefined) return hit;
    if (this.fds.size >= this.limit) this.trim(rel);
    const flags = FLAGS[this.mode];
    let fd: number | Absent;
    try {
      if (rel === '') fd = fs.openSync(this.root, flags.root);
      else {
        const at = this.parentAndName(rel);
        fd = Array.isArray(at) ? openIn(at, flags.child) : at;
      }
    } catch (err) {
      if (!isAbsent(err)) throw ioError('open directory', this.where(rel), err);
      fd = err as Absent;
    }
    // A write cache never remembers an absence: ensure() or a restore may create the directory next.
    if (typeof fd === 'number' || this.mode === 'read') this.fds.set(rel, fd);
    return fd;
  }

  /**
   * Closes every handle but those on rel's ancestors, which the open about to happen reuses. The next
   * trim waits for MAX_HANDLES more opens: on a tree deeper than that, the kept ancestors alone exceed it.
   */
  private trim(rel: RelPath): void {
    for (const [p, fd] of this.fds) {
      if (p === '' || isUnder(rel, p)) continue;
      if (typeof fd === 'number') closeQuietly(fd);
      this.fds.delete(p);
    }
    this.limit = this.fds.size + MAX_HANDLES;
  }

  /** The handle on root/rel's parent and rel's last name, or why its parent cannot be reached without symlinks. */
  private parentAndName(rel: RelPath): [number, Buffer] | Absent {
    const name = lastName(rel);
    if (name === undefined) return absentError(rel);
    const parent = this.lookup(parentOf(rel));
    return typeof parent === 'number' ? [parent, toBytes(name)] : parent;
  }

  /** root/rel as `/proc/self/fd/PARENT/NAME`, or why its parent cannot be reached without symlinks. */
  private path(rel: RelPath): Buffer | Absent {
    const at = this.parentAndName(rel);
    return Array.isArray(at) ? fdPath(...at) : at;
  }

  /** root/rel as `/proc/self/fd/PARENT/NAME`, or undefined when its parent is not a directory reached without symlinks. */
  at(rel: RelPath): Buffer | undefined {
    const p = this.path(rel);
    return Buffer.isBuffer(p) ? p : undefined;
  }

  /** lstat of root/rel, or undefined when absent (or below a symlink or a non-directory). */
  lstat(rel: RelPath): fs.Stats | undefined {
    const p = rel === '' ? undefined : this.at(rel);
    try {
      if (rel === '') return fs.lstatSync(this.root);
      return p === undefined ? undefined : fs.lstatSync(p);
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw ioError('lstat', this.where(rel), err);
    }
  }

  /** Overlay xattrs of root/rel (the entry itself, never a symlink's target), in the namespaces given (default both). */
  xattrs(rel: RelPath, namespaces?: readonly XattrNamespace[]): OverlayXattrs {
    const at = this.at(rel);
    try {
      // Not reached without a symlink: as good as absent.
      if (at === undefined) throw Object.assign(new Error('no such directory'), { code: 'ENOENT' });
      return overlayXattrsOfEntry(at, namespaces);
    } catch (err) {
      throw ioError('read overlay xattrs of', this.where(rel), err);
    }
  }

  /**
   * identityXattrsOfFd() of root/rel: its xattrs other than overlay's own, '' when none. listFirst: list
   * the names first, without an open (listXattrAt), and open the entry for its pairs only where it has
   * some of its own; once the first LIST_FIRST_TRIES listings all found some (every entry labelled, as
   * under SELinux), this tree's entries are opened at once, where listing first only adds a call.
   */
  identityXattrs(rel: RelPath, listFirst = false): string {
    const where = this.where(rel);
    try {
      if (rel === '') {
        const fd = fs.openSync(this.root, O_PATH | fs.constants.O_NOFOLLOW);
        try {
          return identityXattrsOfFd(fd, where);
        } finally {
          closeQuietly(fd);
        }
      }
      const at = this.parentAndName(rel);
      if (!Array.isArray(at)) throw at;
      const [parent, bytes] = at;
      if (listFirst && (this.listings.tried < LIST_FIRST_TRIES || this.listings.none > 0)) {
        this.listings.tried++;
        if (listXattrAt(parent, bytes).every(isOverlayXattr)) {
          this.listings.none++;
          return '';
        }
      }
      return identityXattrsOfEntry(fdPath(parent, bytes), where);
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('read xattrs of', where, err);
    }
  }

  /** readlink of the symlink root/rel, raw bytes. Errors are errno errors. */
  readlink(rel: RelPath): Buffer {
    const at = this.path(rel);
    if (!Buffer.isBuffer(at)) throw at;
    return fs.readlinkSync(at, { encoding: 'buffer' });
  }

  /** Opens root/rel with flags (O_NOFOLLOW added); the caller closes it. Errors are errno errors (ENOENT, ELOOP, …). */
  open(rel: RelPath, flags: number): number {
    if (rel === '') return fs.openSync(this.root, flags);
    const at = this.parentAndName(rel);
    if (!Array.isArray(at)) throw at;
    return openIn(at, flags | fs.constants.O_NOFOLLOW);
  }

  /**
   * The digest of the entry at rel whose lstat is st: content for a regular file (which must still be the
   * inode st names: a file replaced while being hashed is an error), target for a symlink, rdev for a device.
   */
  digest(rel: RelPath, st: Pick<fs.Stats | fs.BigIntStats, 'mode' | 'ino' | 'rdev'>): string {
    const type = entryType(st);
    const where = this.where(rel);
    try {
      if (type !== 'file') return digestOfSpecial(type, st, type === 'symlink' ? this.readlink(rel) : undefined);
      const fd = this.open(rel, FILE_FLAGS);
      try {
        const fst = fs.fstatSync(fd, { bigint: true });
        if (fst.ino !== BigInt(st.ino) || !fst.isFile()) throw new StateOverlayError('io', `${where}: replaced while being hashed`, { path: where });
        return hashFd(fd, BUF)[0];
      } finally {
        closeQuietly(fd);
      }
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('hash', where, err);
    }
  }

  /** The entry at rel as a manifest records it, or undefined. digest: recorded instead of reading the content. */
  entry(rel: RelPath, st: fs.Stats | undefined = this.lstat(rel), digest?: Digest): BaseEntry | undefined {
    if (st === undefined) return undefined;
    return { path: rel, type: entryType(st), ...statAttrs(st), digest: digest ?? this.digest(rel, st) };
  }

  /** mkdir -p of rel below root (new directories mode 0700), never through a symlink (write handles). */
  ensure(rel: RelPath): number {
    const fd = this.dir(rel);
    if (fd !== undefined) return fd;
    const parent = rel === '' ? undefined : this.ensure(parentOf(rel));
    try {
      if (parent === undefined) throw Object.assign(new Error('no such directory'), { code: 'ENOENT' });
      try {
        fs.mkdirSync(fdPath(parent, toBytes(lastName(rel) ?? TREE_ROOT)), { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    } catch (err) {
      throw ioError('create directory', this.where(rel), err);
    }
    const made = this.dir(rel);
    if (made === undefined) throw ioError('create directory', this.where(rel), Object.assign(new Error('vanished once created'), { code: 'ENOENT' }));
    return made;
  }

  /** root/rel moved, renamed or removed: its handle and those of its subtree are dropped. */
  forget(rel: RelPath): void {
    // Handles are opened through their parents' (whose handles trimming keeps): nothing below rel is cached unless rel is.
    if (!this.fds.has(rel)) return;
    for (const [p, fd] of this.fds) {
      if (p === rel || (rel !== '' && isUnder(p, rel)) || (rel === '' && p !== '')) {
        if (typeof fd === 'number') closeQuietly(fd);
        this.fds.delete(p);
      }
    }
  }

  /** fsync of the directory root/rel (nothing when it no longer exists). */
  sync(rel: RelPath): void {
    const fd = this.dir(rel);
    if (fd === undefined) return;
    try {
      fs.fsyncSync(fd);
    } catch (err) {
      throw ioError('fsync directory', this.where(rel), err);
    }
  }

  get empty(): boolean {
    return this.fds.size === 0;
  }

  close(): void {
    for (const fd of this.fds.values()) if (typeof fd === 'number') closeQuietly(fd);
    this.fds.clear();
    this.limit = MAX_HANDLES;
  }
}

/** Runs fn with handles on root, closed after it: the one-shot form (a single path, a single action). */
export function withHandles<T>(root: string, fn: (h: DirHandles) => T, mode: 'read' | 'write' = 'read'): T {
  const h = new DirHandles(root, mode);
  try {
    return fn(h);
  } finally {
    h.close();
  }
}

/** lstat of root/rel without following any symlink below root; undefined when absent (see isAbsent). */
export function lstatBeneath(root: string, rel: RelPath): fs.Stats | undefined {
  return withHandles(root, (h) => h.lstat(rel));
}

/**
 * Opens root/rel with `flags | O_NOFOLLOW`, component by component without following a symlink below root
 * (root itself may be one). The caller closes the fd. Errors are errno errors (ENOENT, ENOTDIR, ELOOP, …).
 */
export function openBeneath(root: string, rel: RelPath, flags: number): number {
  return withHandles(root, (h) => h.open(rel, flags));
}

/** readlink of root/rel (a symlink) as raw bytes, without following any component. */
export function readlinkBeneath(root: string, rel: RelPath): Buffer {
  return withHandles(root, (h) => h.readlink(rel));
}

/** The digest of root/rel whose lstat is st (see DirHandles.digest), with handles of its own. */
export function digestEntry(root: string, rel: RelPath, st: Pick<fs.Stats | fs.BigIntStats, 'mode' | 'ino' | 'rdev'>): string {
  return withHandles(root, (h) => h.digest(rel, st));
}
