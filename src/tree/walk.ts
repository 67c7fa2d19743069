// The tree walker for base and upper dirs: pre-order, children in raw byte order, never follows a
// symlink, no recursion (an explicit stack of directory fds), paths of any length.
import fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { ioError } from '../errors.js';
import { TREE_ROOT, displayPath, fromBytes, joinRel, type EntryType, type RelPath } from '../model/entry.js';
import { DIR_FLAGS, O_PATH, closeQuietly, entryType, fdPath } from './fsat.js';

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
   * With WalkOptions.openFiles, a regular file's fd opened while its directory was read, or undefined
   * (none opened: budget spent, worker thread, or not a file). Call it before resuming the walk; the
   * caller owns and closes what it takes, what it does not take is closed when the walk moves on.
   */
  takeFd?: () => number | undefined;
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
   * Open flags (O_NOFOLLOW is added): open regular files from inside their directory as it is read, for
   * WalkEntry.takeFd. One name relative to the directory instead of a procfs lookup each.
   */
  openFiles?: number;
  /**
   * Leave out (and do not enter) the entries for which this holds: the mountpoints below a base. Not a
   * test of st_dev: a btrfs subvolume has its own st_dev and is part of the tree all the same.
   */
  skip?: (path: RelPath) => boolean;
}

type AnyStats = fs.Stats | fs.BigIntStats;
type Lstat = (p: Buffer) => AnyStats;

interface Frame {
  fd: number;
  path: RelPath;
  names: Buffer[];
  next: number;
  /** lstat results (or the error) of names[statsFrom …], taken a chunk at a time. */
  stats: (AnyStats | Error)[];
  /** Files of the chunk opened for takeFd (openFiles), by the same index as stats. */
  fds: (number | undefined)[];
  statsFrom: number;
}

/** Children stat'ed per visit to a directory: bounds the memory a very wide directory takes. */
const CHUNK = 1024;
/** Files opened ahead for takeFd and not yet taken or closed, at most (a deep tree holds some per level). */
const OPEN_AHEAD = 512;

interface Chunk {
  /** lstat results (or the error) of a chunk of names. */
  stats: (AnyStats | Error)[];
  fds: (number | undefined)[];
}

interface Listing extends Chunk {
  fd: number;
  names: Buffer[];
}

const stale = (): Error => Object.assign(new Error('directory replaced during the walk'), { code: 'ESTALE' });
const sameInode = (a: AnyStats, b: AnyStats): boolean => BigInt(a.ino) === BigInt(b.ino) && BigInt(a.dev) === BigInt(b.dev);

/**
 * Opens, lists and stats directories. In the main thread it works from inside the directory (chdir):
 * every lstat is then one single-name lookup, as fstatat(2) would be, where a lookup through
 * /proc/self/fd/N/NAME costs a procfs walk each (the walk ran about 1.6× slower that way). No symlink is
 * followed either way: a directory is entered through its O_NOFOLLOW fd (checked against the inode
 * listed), and lstat never dereferences a single name. Everything between leaving the working directory and
 * coming back to it (checked by inode, else through an fd held on it) is synchronous, so no other
 * JavaScript ever sees it moved. Worker threads cannot chdir: they use /proc paths.
 */
class DirReader {
  private readonly home: { fd: number; path: string | undefined; st: fs.BigIntStats } | undefined;
  /** Files opened ahead and still open. */
  private ahead = 0;

  constructor(
    private readonly lstat: Lstat,
    private readonly openFlags: number | undefined,
  ) {
    if (!isMainThread) return;
    const fd = fs.openSync('.', O_PATH | fs.constants.O_DIRECTORY);
    let path: string | undefined;
    try {
      path = process.cwd();
    } catch {
      // Any failure (ENOENT: removed; ENAMETOOLONG: past PATH_MAX): the fd held on it brings the walk back.
      path = undefined;
    }
    this.home = { fd, path, st: fs.fstatSync(fd, { bigint: true }) };
  }

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
    const fd = fs.openSync(fdPath(parentFd, name), DIR_FLAGS);
    try {
      if (!sameInode(fs.fstatSync(fd, { bigint: true }), was)) throw stale();
      return this.list(fd);
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  }

  /** Stats of names[from …] (one chunk) in the directory fd. */
  stat(fd: number, names: readonly Buffer[], from: number): Chunk {
    if (this.home === undefined) return this.statRange(names, from, (n) => fdPath(fd, n));
    return this.inside(fd, () => this.statRange(names, from, undefined));
  }

  /** Closes (or forgets, when taken) a file opened ahead. */
  release(fd: number | undefined, close: boolean): void {
    if (fd === undefined) return;
    this.ahead--;
    if (close) closeQuietly(fd);
  }

  close(): void {
    if (this.home !== undefined) closeQuietly(this.home.fd);
  }

  /** The sorted names in fd and the stats of the first chunk of them, from inside fd where it can. */
  private list(fd: number): Listing {
    const read = (at: ((name?: Buffer) => Buffer) | undefined): Listing => {
      const names = fs.readdirSync(at ? at() : '.', { encoding: 'buffer' }).sort(Buffer.compare);
      return { fd, names, ...this.statRange(names, 0, at) };
    };
    return this.home === undefined ? read((n) => fdPath(fd, n)) : this.inside(fd, () => read(undefined));
  }

  private statRange(names: readonly Buffer[], from: number, at: ((name: Buffer) => Buffer) | undefined): Chunk {
    const stats: (AnyStats | Error)[] = [];
    const fds: (number | undefined)[] = [];
    // Only from inside the directory: through /proc an open costs what it saves.
    const open = at === undefined && this.openFlags !== undefined ? this.openFlags | fs.constants.O_NOFOLLOW : undefined;
    for (let i = from; i < Math.min(names.length, from + CHUNK); i++) {
      const name = names[i]!;
      let st: AnyStats | Error;
      try {
        st = this.lstat(at ? at(name) : name);
      } catch (err) {
        st = err as Error;
      }
      stats.push(st);
      let fd: number | undefined;
      if (open !== undefined && this.ahead < OPEN_AHEAD && !(st instanceof Error) && st.isFile()) {
        try {
          fd = fs.openSync(name, open);
          this.ahead++;
        } catch {
          // Any failure: opening ahead only saves a lookup; the caller opens it itself and reports what fails.
          fd = undefined;
        }
      }
      fds.push(fd);
    }
    return { stats, fds };
  }

  /** Runs fn with the directory fd as working directory (main thread only), then comes back home. */
  private inside<T>(fd: number, fn: () => T): T {
    const home = this.home!;
    process.chdir(`/proc/self/fd/${fd}`);
    try {
      return fn();
    } finally {
      this.goHome(home);
    }
  }

  private goHome(home: NonNullable<DirReader['home']>): void {
    if (home.path !== undefined) {
      try {
        process.chdir(home.path);
        if (sameInode(fs.statSync('.', { bigint: true }), home.st)) return;
      } catch {
        // Any failure (moved, removed): the fd still holds it, and a failure of that chdir is thrown.
      }
    }
    process.chdir(`/proc/self/fd/${home.fd}`);
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
  const reader = new DirReader(opts.bigint ? (p) => fs.lstatSync(p, { bigint: true }) : (p) => fs.lstatSync(p), opts.openFiles);
  const dropFds = (f: Frame) => {
    for (const fd of f.fds) reader.release(fd, true);
    f.fds = [];
  };
  const frame = (l: Listing, path: RelPath): Frame => ({ ...l, path, next: 0, statsFrom: 0 });
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
        dropFds(top);
        closeQuietly(top.fd);
        stack.pop();
        continue;
      }
      if (i >= top.statsFrom + top.stats.length) {
        dropFds(top);
        top.statsFrom = i;
        Object.assign(top, reader.stat(top.fd, top.names, i));
      }
      top.names[top.next++] = EMPTY; // let the name be collected once visited
      const path = joinRel(top.path, fromBytes(name));
      const k = i - top.statsFrom;
      const st = top.stats[k]!;
      if (st instanceof Error) {
        fail(path, st);
        continue;
      }
      if (opts.skip !== undefined && opts.skip(path)) continue;
      const entry: WalkEntry<AnyStats> = { path, name, type: entryType(st), st, dirFd: top.fd };
      const fds = top.fds;
      if (opts.openFiles !== undefined) {
        entry.takeFd = () => {
          const fd = fds[k];
          fds[k] = undefined;
          reader.release(fd, false);
          return fd;
        };
      }
      yield entry;
      reader.release(fds[k], true);
      fds[k] = undefined;
      if (entry.type !== 'dir' || (opts.descend && !opts.descend(entry))) continue;
      try {
        stack.push(frame(reader.child(top.fd, name, st), path));
      } catch (err) {
        fail(path, err);
      }
    }
  } finally {
    for (const f of stack) {
      dropFds(f);
      closeQuietly(f.fd);
    }
    reader.close();
  }
}

const EMPTY = Buffer.alloc(0);
