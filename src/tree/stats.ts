// lstat results of the native directory read (statAt in native/syscalls.c) as objects that behave as
// fs.Stats and fs.BigIntStats do: the same fields, computed the way Node computes them, and the
// is*() tests.
import fs from 'node:fs';
import os from 'node:os';
import util from 'node:util';
import type { StatRecords } from '../native/syscalls.js';

/** The slots of one entry in statAt's records, in the order native/syscalls.c writes them. */
const enum R {
  errno, dev, mode, nlink, uid, gid, rdev, blksize, ino, size, blocks,
  atime, atimeNs, mtime, mtimeNs, ctime, ctimeNs, btime, btimeNs,
  xattrErrno, xattrAt, xattrLen,
}
/** Numbers per entry in statAt's records. */
const SLOTS = 22;

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK } = fs.constants;
const date = (msValue: number | bigint): Date => new Date(Math.round(Number(msValue)));

abstract class StatsBase<T extends number | bigint> {
  abstract readonly mode: T;
  abstract readonly atimeMs: T;
  abstract readonly mtimeMs: T;
  abstract readonly ctimeMs: T;
  abstract readonly birthtimeMs: T;
  private fmt(): number {
    return Number(this.mode) & S_IFMT;
  }
  isFile(): boolean {
    return this.fmt() === S_IFREG;
  }
  isDirectory(): boolean {
    return this.fmt() === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.fmt() === S_IFLNK;
  }
  isCharacterDevice(): boolean {
    return this.fmt() === S_IFCHR;
  }
  isBlockDevice(): boolean {
    return this.fmt() === S_IFBLK;
  }
  isFIFO(): boolean {
    return this.fmt() === S_IFIFO;
  }
  isSocket(): boolean {
    return this.fmt() === S_IFSOCK;
  }
  get atime(): Date {
    return date(this.atimeMs);
  }
  get mtime(): Date {
    return date(this.mtimeMs);
  }
  get ctime(): Date {
    return date(this.ctimeMs);
  }
  get birthtime(): Date {
    return date(this.birthtimeMs);
  }
}

// The fields are read from the chunk's records when asked for: an entry's callers read a few of them
// (the tree generation seven), and a BigInt made for each field of each entry was a fifth of the walk.
// The records of a chunk stay as long as one of its stats does: 176 bytes per entry.
class NativeStats extends StatsBase<number> implements fs.Stats {
  constructor(
    private readonly r: Float64Array,
    private readonly i: number,
  ) {
    super();
  }
  get dev(): number {
    return this.r[this.i + R.dev]!;
  }
  get mode(): number {
    return this.r[this.i + R.mode]!;
  }
  get nlink(): number {
    return this.r[this.i + R.nlink]!;
  }
  get uid(): number {
    return this.r[this.i + R.uid]!;
  }
  get gid(): number {
    return this.r[this.i + R.gid]!;
  }
  get rdev(): number {
    return this.r[this.i + R.rdev]!;
  }
  get blksize(): number {
    return this.r[this.i + R.blksize]!;
  }
  get ino(): number {
    return this.r[this.i + R.ino]!;
  }
  get size(): number {
    return this.r[this.i + R.size]!;
  }
  get blocks(): number {
    return this.r[this.i + R.blocks]!;
  }
  // Node's Stats: seconds in ms plus the nanoseconds in ms, in floating point.
  get atimeMs(): number {
    return this.r[this.i + R.atime]! * 1e3 + this.r[this.i + R.atimeNs]! / 1e6;
  }
  get mtimeMs(): number {
    return this.r[this.i + R.mtime]! * 1e3 + this.r[this.i + R.mtimeNs]! / 1e6;
  }
  get ctimeMs(): number {
    return this.r[this.i + R.ctime]! * 1e3 + this.r[this.i + R.ctimeNs]! / 1e6;
  }
  get birthtimeMs(): number {
    return this.r[this.i + R.btime]! * 1e3 + this.r[this.i + R.btimeNs]! / 1e6;
  }
}

const NS = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

// Unsigned 64-bit slots, as Node's own BigIntStats reads them (a time before 1970 wraps there too).
class NativeBigIntStats extends StatsBase<bigint> implements fs.BigIntStats {
  /**
   * r: the records as unsigned 64-bit numbers (an inode number or a device can use all 64 bits); t: the
   * same records signed, for the times (seconds before 1970 are negative).
   */
  constructor(
    private readonly r: BigUint64Array,
    private readonly t: BigInt64Array,
    private readonly i: number,
  ) {
    super();
  }
  get dev(): bigint {
    return this.r[this.i + R.dev]!;
  }
  get mode(): bigint {
    return this.r[this.i + R.mode]!;
  }
  get nlink(): bigint {
    return this.r[this.i + R.nlink]!;
  }
  get uid(): bigint {
    return this.r[this.i + R.uid]!;
  }
  get gid(): bigint {
    return this.r[this.i + R.gid]!;
  }
  get rdev(): bigint {
    return this.r[this.i + R.rdev]!;
  }
  get blksize(): bigint {
    return this.r[this.i + R.blksize]!;
  }
  get ino(): bigint {
    return this.r[this.i + R.ino]!;
  }
  get size(): bigint {
    return this.r[this.i + R.size]!;
  }
  get blocks(): bigint {
    return this.r[this.i + R.blocks]!;
  }
  get atimeNs(): bigint {
    return this.t[this.i + R.atime]! * NS + this.t[this.i + R.atimeNs]!;
  }
  get mtimeNs(): bigint {
    return this.t[this.i + R.mtime]! * NS + this.t[this.i + R.mtimeNs]!;
  }
  get ctimeNs(): bigint {
    return this.t[this.i + R.ctime]! * NS + this.t[this.i + R.ctimeNs]!;
  }
  get birthtimeNs(): bigint {
    return this.t[this.i + R.btime]! * NS + this.t[this.i + R.btimeNs]!;
  }
  get atimeMs(): bigint {
    return this.atimeNs / NS_PER_MS;
  }
  get mtimeMs(): bigint {
    return this.mtimeNs / NS_PER_MS;
  }
  get ctimeMs(): bigint {
    return this.ctimeNs / NS_PER_MS;
  }
  get birthtimeMs(): bigint {
    return this.birthtimeNs / NS_PER_MS;
  }
}

const errnoNames = util.getSystemErrorMap();

/** The failure of one entry's lstat, as Node's fs reports one (code, negative errno, syscall, path). */
function entryError(errno: number, where: string): NodeJS.ErrnoException {
  const [code, text] = errnoNames.get(-errno) ?? [`E${errno}`, 'unknown error'];
  return Object.assign(new Error(`${code}: ${text}, statx '${where}'`), { code, errno: -errno, syscall: 'statx', path: where });
}

/** A chunk of statAt's records: each entry's lstat (or why it has none). */
export interface StatChunk {
  readonly stats: (fs.Stats | fs.BigIntStats | Error)[];
  /** With xattrs asked: each entry's xattr names, or undefined where listing them failed (read them another way). */
  readonly xattrs?: (readonly string[] | undefined)[];
}

/** A filesystem without xattrs, or none there: no names. */
const NO_XATTRS = new Set([os.constants.errno.ENODATA, os.constants.errno.EOPNOTSUPP]);

/** statAt's records of names[from …] (binary strings; bigint: 64-bit slots, else float64). */
export function statChunk({ records, xattrs: lists }: StatRecords, bigint: boolean, names: readonly string[], from: number): StatChunk {
  const r = bigint ? new BigUint64Array(records) : new Float64Array(records);
  const signed = bigint ? new BigInt64Array(records) : undefined;
  const stats: (fs.Stats | fs.BigIntStats | Error)[] = [];
  const xattrs: (readonly string[] | undefined)[] | undefined = lists === undefined ? undefined : [];
  for (let at = 0, i = from; at < r.length; at += SLOTS, i++) {
    const errno = Number(r[at + R.errno]);
    if (errno !== 0) {
      stats.push(entryError(errno, names[i]!));
      xattrs?.push(undefined);
      continue;
    }
    stats.push(bigint ? new NativeBigIntStats(r as BigUint64Array, signed!, at) : new NativeStats(r as Float64Array, at));
    if (lists !== undefined) xattrs!.push(xattrNames(lists, Number(r[at + R.xattrErrno]), Number(r[at + R.xattrAt]), Number(r[at + R.xattrLen])));
  }
  return xattrs === undefined ? { stats } : { stats, xattrs };
}

/** One entry's xattr names from statAt's lists (each ended by a NUL), [] without any, undefined when listing failed. */
function xattrNames(lists: Buffer, errno: number, at: number, len: number): readonly string[] | undefined {
  if (errno !== 0) return NO_XATTRS.has(errno) ? NONE : undefined;
  return len === 0 ? NONE : lists.toString('latin1', at, at + len - 1).split('\0');
}
const NONE: readonly string[] = Object.freeze([]);
