// The tree walker for base and upper dirs: pre-order, children in raw byte order, never follows a
// symlink, no recursion (an explicit stack of directory fds), paths of any length.
import fs from 'node:fs';
import { ioError } from '../errors.js';
import { TREE_ROOT, displayPath, joinRel, type EntryType, type RelPath } from '../model/entry.js';
import { openAt, readDir, statAt } from '../native/syscalls.js';
import { DIR_FLAGS, closeQuietly, entryType } from './fsat.js';
import { statChunk } from './stats.js';

export interface WalkEntry<S extends fs.Stats | fs.BigIntStats = fs.Stats> {
  readonly path: RelPath;
  /** The last component, raw bytes. */
  readonly name: Buffer;
  readonly type: EntryType;
  /** lstat of the entry. */
  readonly st: S;
  /**
   * fd of the directory holding the entry: `fdPath(dirFd, name)` addresses the entry without following
   * anything. Valid only until the generator is resumed; never close it.
   */
  readonly dirFd: number;
  /**
   * With WalkOptions.xattrs, the entry's xattr names (llistxattr of the entry itself, listed with its
   * lstat); undefined when not asked or when listing failed (the caller reads them another way).
   */
  xattrNames?: readonly string[];
}

export interface WalkOptions {
  /**
   * Unreadable directories and vanished entries: the walk goes on without them. Without it, the first
   * one fails the walk (a walk of part of a tree must never pass for a walk of the whole).
   */
  onError?: (path: RelPath, err: Error) => void;
  /** Return false to skip the entries below this directory. */
  descend?: (dir: WalkEntry<fs.Stats | fs.BigIntStats>) => boolean;
  /** lstat with bigint fields (nanosecond times, exact inode numbers). */
  bigint?: boolean;
  /**
   * Leave out (and do not enter) the entries for which this holds: the mountpoints below a base. Not a
   * test of st_dev: a btrfs subvolume has its own st_dev and is part of the tree all the same.
   */
  skip?: (path: RelPath) => boolean;
  /** List each entry's xattr names with its lstat, for WalkEntry.xattrNames: no open of the entry, no second list. */
  xattrs?: boolean;
}

type AnyStats = fs.Stats | fs.BigIntStats;

interface Frame extends Listing {
  path: RelPath;
  next: number;
  /** Where names[next] starts in `all`. */
  at: number;
  statsFrom: number;
}

/** Children stat'ed per visit to a directory: bounds the memory a very wide directory takes. */
const CHUNK = 1024;

interface Chunk {
  /** lstat results (or the error) of a chunk of names, from names[statsFrom]. */
  stats: (AnyStats | Error)[];
  /** xattr names of the chunk's entries (WalkOptions.xattrs), by the same index as stats. */
  xattrs?: (readonly string[] | undefined)[];
}

interface Listing extends Chunk {
  fd: number;
  /** readDir's Buffer: the names, sorted, each ended by a NUL. */
  all: Buffer;
  /** The same names as binary strings (one char per byte), read from `all` at once. */
  names: string[];
}

const stale = (): Error => Object.assign(new Error('directory replaced during the walk'), { code: 'ESTALE' });
const sameInode = (a: AnyStats, b: AnyStats): boolean => BigInt(a.ino) === BigInt(b.ino) && BigInt(a.dev) === BigInt(b.dev);

/** The NUL-ended names of readDir's Buffer as binary strings: one decoding for the whole directory. */
function split(all: Buffer): string[] {
  return all.length === 0 ? [] : all.toString('latin1', 0, all.length - 1).split('\0');
}

/**
 * Opens, lists and stats directories through the native addon: one call lists a directory, one stats a
 * chunk of its names from the directory's fd (statx on a single name: no path walked, no symlink
 * followed). A directory is entered by openat(2) of its name with O_NOFOLLOW, checked against the
 * inode listed.
 */
class DirReader {
  constructor(
    private readonly bigint: boolean,
    private readonly xattrs: boolean,
  ) {}

  /** The root: opened by path (it may be a symlink), then listed. */
  root(dir: string): Listing {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      return this.list(fd);
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  }

  /** The directory NAME in parentFd, which must still be the inode `was` (lstat'ed when listed). */
  child(parentFd: number, name: Buffer, was: AnyStats): Listing {
    const fd = openAt(parentFd, name, DIR_FLAGS);
    try {
      if (!sameInode(fs.fstatSync(fd, { bigint: true }), was)) throw stale();
      return this.list(fd);
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  }

  /** Stats of names[from …] (one chunk) in the directory fd; names[from] starts at `offset` in `all`. */
  stat(fd: number, all: Buffer, names: readonly string[], from: number, offset: number): Chunk {
    const count = Math.min(names.length - from, CHUNK);
    if (count <= 0) return { stats: [] };
    return statChunk(statAt(fd, all, offset, count, this.bigint, this.xattrs), this.bigint, names, from);
  }

  /** The sorted names in fd and the stats of the first chunk of them. */
  private list(fd: number): Listing {
    const all = readDir(fd);
    const names = split(all);
    const { stats, xattrs } = this.stat(fd, all, names, 0, 0);
    return { fd, all, names, stats, xattrs };
  }
}

/**
 * Every entry below rootDir (rootDir itself excluded; it may be a symlink, nothing below it is followed).
 * Holds one fd per level of the current path: depth is bounded by RLIMIT_NOFILE, which Node raises to
 * the hard limit at start-up.
 */
export function walk(rootDir: string, opts?: WalkOptions & { bigint?: false }): Generator<WalkEntry<fs.Stats>>;
export function walk(rootDir: string, opts: WalkOptions & { bigint: true }): Generator<WalkEntry<fs.BigIntStats>>;
export function* walk(rootDir: string, opts: WalkOptions = {}): Generator<WalkEntry<AnyStats>> {
  const stack: Frame[] = [];
  const fail = (path: RelPath, err: unknown) => {
    if (opts.onError) opts.onError(path, err as Error);
    else throw ioError('read', `${rootDir}/${displayPath(path)}`, err);
  };
  const reader = new DirReader(opts.bigint === true, opts.xattrs === true);
  const frame = (l: Listing, path: RelPath): Frame => ({ fd: l.fd, all: l.all, names: l.names, stats: l.stats, xattrs: l.xattrs, path, next: 0, at: 0, statsFrom: 0 });
  try {
    try {
      stack.push(frame(reader.root(rootDir), TREE_ROOT));
    } catch (err) {
      throw ioError('read directory', rootDir, err);
    }
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const i = top.next;
      const name = top.names[i];
      if (name === undefined) {
        closeQuietly(top.fd);
        stack.pop();
        continue;
      }
      if (i >= top.statsFrom + top.stats.length) {
        top.statsFrom = i;
        const chunk = reader.stat(top.fd, top.all, top.names, i, top.at);
        top.stats = chunk.stats;
        top.xattrs = chunk.xattrs;
      }
      top.next++;
      const bytes = top.all.subarray(top.at, top.at + name.length);
      top.at += name.length + 1;
      const path = joinRel(top.path, name as RelPath);
      const k = i - top.statsFrom;
      const st = top.stats[k]!;
      if (st instanceof Error) {
        fail(path, st);
        continue;
      }
      if (opts.skip !== undefined && opts.skip(path)) continue;
      const entry: WalkEntry<AnyStats> = { path, name: bytes, type: entryType(st), st, dirFd: top.fd };
      if (top.xattrs !== undefined) entry.xattrNames = top.xattrs[k];
      yield entry;
      if (entry.type !== 'dir' || (opts.descend && !opts.descend(entry))) continue;
      try {
        stack.push(frame(reader.child(top.fd, bytes, st), path));
      } catch (err) {
        fail(path, err);
      }
    }
  } finally {
    for (const f of stack) closeQuietly(f.fd);
  }
}
