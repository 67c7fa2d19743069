// The tree walker for base and upper dirs: pre-order, children in raw byte order, never follows a
// symlink, no recursion (an explicit stack of directory fds), paths of any length.
import fs from 'node:fs';
import { ioError } from '../errors.js';
import { fromBytes, joinRel, type EntryType, type RelPath } from '../model/entry.js';
import { DIR_FLAGS, closeQuietly, entryType, fdPath } from './fsat.js';

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
}

export interface WalkOptions {
  /** Unreadable directories and vanished entries; the walk goes on without them. */
  onError?: (path: RelPath, err: Error) => void;
  /** Return false to skip the entries below this directory. */
  descend?: (dir: WalkEntry<fs.Stats | fs.BigIntStats>) => boolean;
  /** lstat with bigint fields (nanosecond times, exact inode numbers). */
  bigint?: boolean;
}

interface Frame {
  fd: number;
  /** `/proc/self/fd/FD/`: children are addressed by appending their name. */
  prefix: Buffer;
  path: RelPath;
  names: Buffer[];
  next: number;
}

function listDir(fd: number): Buffer[] {
  return fs.readdirSync(fdPath(fd), { encoding: 'buffer' }).sort(Buffer.compare);
}

/**
 * Every entry below rootDir (rootDir itself excluded; it may be a symlink, nothing below it is followed).
 * Holds one fd per level of the current path: depth is bounded by RLIMIT_NOFILE, which Node raises to
 * the hard limit at start-up.
 */
export function walk(rootDir: string, opts?: WalkOptions & { bigint?: false }): Generator<WalkEntry<fs.Stats>>;
export function walk(rootDir: string, opts: WalkOptions & { bigint: true }): Generator<WalkEntry<fs.BigIntStats>>;
export function* walk(rootDir: string, opts: WalkOptions = {}): Generator<WalkEntry<fs.Stats | fs.BigIntStats>> {
  const stack: Frame[] = [];
  const fail = (path: RelPath, err: unknown) => {
    if (opts.onError) opts.onError(path, err as Error);
  };
  const lstat = opts.bigint
    ? (p: Buffer) => fs.lstatSync(p, { bigint: true })
    : (p: Buffer) => fs.lstatSync(p);
  let rootFd: number;
  try {
    rootFd = fs.openSync(rootDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    stack.push({ fd: rootFd, prefix: fdPrefix(rootFd), path: '', names: [], next: 0 });
    stack[0]!.names = listDir(rootFd);
  } catch (err) {
    for (const f of stack) closeQuietly(f.fd);
    throw ioError('read directory', rootDir, err);
  }
  try {
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const name = top.names[top.next];
      if (name === undefined) {
        closeQuietly(top.fd);
        stack.pop();
        continue;
      }
      top.names[top.next++] = EMPTY; // let the name be collected once visited
      const path = joinRel(top.path, fromBytes(name));
      let st: fs.Stats | fs.BigIntStats;
      try {
        st = lstat(Buffer.concat([top.prefix, name]));
      } catch (err) {
        fail(path, err);
        continue;
      }
      const entry = { path, name, type: entryType(st), st, dirFd: top.fd };
      yield entry;
      if (entry.type !== 'dir' || (opts.descend && !opts.descend(entry))) continue;
      let fd: number | undefined;
      try {
        fd = fs.openSync(fdPath(top.fd, name), DIR_FLAGS);
        const fst = fs.fstatSync(fd, { bigint: true });
        if (fst.ino !== BigInt(st.ino) || fst.dev !== BigInt(st.dev)) {
          throw Object.assign(new Error('directory replaced during the walk'), { code: 'ESTALE' });
        }
        stack.push({ fd, prefix: fdPrefix(fd), path, names: listDir(fd), next: 0 });
      } catch (err) {
        if (fd !== undefined && stack[stack.length - 1]?.fd !== fd) closeQuietly(fd);
        fail(path, err);
      }
    }
  } finally {
    for (const f of stack) closeQuietly(f.fd);
  }
}

const EMPTY = Buffer.alloc(0);
const fdPrefix = (fd: number) => Buffer.from(`/proc/self/fd/${fd}/`, 'latin1');

/**
 * Orders RelPaths as the walker yields them (pre-order, components in byte order): '/' sorts before any
 * byte. Merge-joins of manifests and walks rely on it.
 */
export function comparePaths(a: RelPath, b: RelPath): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x === 0x2f ? -1 : x) - (y === 0x2f ? -1 : y);
  }
  return a.length - b.length;
}
