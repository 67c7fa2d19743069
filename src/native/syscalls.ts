// The one loader of the project's own N-API addon (native/syscalls.c): system calls Node has no binding
// for. Loaded on first use, so a command that never needs it starts without it.
import { createRequire } from 'node:module';
import { StateOverlayError, ioError } from '../errors.js';

/** The MS_* flags mount() passes (MS_BIND, MS_NODEV, …), by name. */
export type MountFlag = 'bind' | 'nodev' | 'nosuid' | 'private' | 'rdonly' | 'remount';

/** What flock(2) is asked to do; every call is non-blocking (LOCK_NB). */
export type FlockOp = 'exclusive' | 'shared' | 'unlock';

interface Syscalls {
  flock(fd: number, op: FlockOp): boolean;
  journalOpen(path: string): number;
  journalSend(fd: number, entry: Buffer): void;
  mount(source: string | null, target: string, fstype: string | null, flags: readonly MountFlag[], data: string | null): void;
  listXattrAt(fd: number, name: Buffer): string;
  openAt(fd: number, name: Buffer, flags: number): number;
  readDir(fd: number): Buffer;
  statAt(fd: number, names: Buffer, offset: number, count: number, bigint: boolean, xattrs: boolean): ArrayBuffer | [ArrayBuffer, Buffer];
  syncfs(fd: number): void;
  utimens(fd: number, path: Buffer | null, atimeNs: bigint, mtimeNs: bigint): void;
  treeRecords(root: string, watch: Buffer | null, skip: (path: string) => boolean, sink: (chunk: Buffer) => void): number;
  indexWalk(root: string, watch: Buffer | null, prevFd: number, prevFrom: number, prevTo: number, maxOpen: number): IndexHandle;
  indexNext(handle: IndexHandle, skip: (path: string) => boolean): [Buffer, Buffer, Buffer, number, Buffer, number] | null;
  indexEnd(handle: IndexHandle): void;
  hashFiles(fds: Int32Array): Promise<[Buffer, number, (string | undefined)[] | null]>;
  hashRange(fd: number, from: number, length: number): Promise<Buffer>;
  hashStream(): HashStream;
  hashStreamFeed(h: HashStream, bytes: Buffer): Promise<void>;
  hashStreamDigest(h: HashStream): Promise<Buffer>;
}

/** A sha256 hashed on libuv's thread pool in the order it is fed (hashStream). */
export type HashStream = { readonly __hashStream: unique symbol };

/**
 * Where the build puts the addon, from this module in src/native/ or dist/native/ alike. The installed
 * bundle loads its copy from beside itself instead (scripts/install/bundle.ts rewrites this load).
 */
export const ADDON_FROM_MODULE = '../../native/build/Release/syscalls.node';

let addon: Syscalls | undefined;

function syscalls(): Syscalls {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(ADDON_FROM_MODULE) as Syscalls;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
      throw new StateOverlayError('internal', `native addon ${ADDON_FROM_MODULE} is not built (npm run build builds it)`, { cause: err });
    }
  }
  return addon;
}

/**
 * flock(2) on fd, never blocking: true when done, false when another open file description holds the
 * lock. Other failures throw an Error with the errno name as its code, as Node's fs errors have.
 */
export function flock(fd: number, op: FlockOp): boolean {
  return syscalls().flock(fd, op);
}

/**
 * mount(2): source, fstype and data (the options string) may be null, as the call allows. Errors as
 * flock's (syscall 'mount').
 */
export function mount(source: string | null, target: string, fstype: string | null, flags: readonly MountFlag[], data: string | null): void {
  syscalls().mount(source, target, fstype, flags, data);
}

/** An AF_UNIX datagram socket connected to path (journald's native socket), close-on-exec; errors as flock's. */
export function journalOpen(path: string): number {
  return syscalls().journalOpen(path);
}

/** Sends one encoded journal entry on a socket from journalOpen(); one too large for a datagram goes as a sealed memfd. */
export function journalSend(fd: number, entry: Buffer): void {
  syscalls().journalSend(fd, entry);
}

/**
 * The xattr names of the entry `name` in the directory fd: the entry itself, no open of it (listxattrat,
 * or where the kernel lacks it llistxattr of /proc/self/fd/FD/NAME); [] without any, or on a filesystem
 * without xattrs. Errors as flock's, naming the call that failed.
 */
export function listXattrAt(fd: number, name: Buffer): string[] {
  const list = syscalls().listXattrAt(fd, name);
  return list === '' ? [] : list.slice(0, -1).split('\0');
}

/** openat(2) of one name in the directory fd (O_CLOEXEC added); errors as flock's. */
export function openAt(fd: number, name: Buffer, flags: number): number {
  return syscalls().openAt(fd, name, flags);
}

/**
 * The names in the directory fd ('.' and '..' left out), sorted in raw byte order, each ended by a NUL,
 * in one Buffer. The directory is read from its start (fd's offset moves); errors as flock's.
 */
export function readDir(fd: number): Buffer {
  return syscalls().readDir(fd);
}

/** statAt's answer: the records (src/tree/stats.ts reads them) and, when asked, the xattr names they point into. */
export interface StatRecords {
  readonly records: ArrayBuffer;
  readonly xattrs?: Buffer;
}

/**
 * The lstat (statx with AT_SYMLINK_NOFOLLOW) of `count` names of readDir's Buffer from byte `offset`, in
 * the directory fd: 22 numbers per entry, 64-bit with bigint, else float64. An entry's own failure is in
 * its record; with `xattrs`, each entry's xattr names are listed (llistxattr, the entry itself).
 */
export function statAt(fd: number, names: Buffer, offset: number, count: number, bigint: boolean, xattrs = false): StatRecords {
  const r = syscalls().statAt(fd, names, offset, count, bigint, xattrs);
  return Array.isArray(r) ? { records: r[0], xattrs: r[1] } : { records: r };
}

/**
 * syncfs(2) on the filesystem of fd (a handle on path): every dirty inode and block of that filesystem is
 * written back before it returns. A failure throws an io error naming path, its cause the errno error.
 */
export function syncfs(fd: number, path: string): void {
  try {
    syscalls().syncfs(fd);
  } catch (err) {
    throw ioError('syncfs', path, err);
  }
}

/**
 * Sets the access and modification times, to the nanosecond, of the open file fd (path null: futimens) or
 * of the entry at path relative to the directory fd, or absolute (utimensat, AT_SYMLINK_NOFOLLOW: a
 * symlink itself). Times before 1970 are kept: Node's utimes replace them with the current time. Errors as
 * flock's.
 */
export function utimens(fd: number, path: Buffer | null, atimeNs: bigint, mtimeNs: bigint): void {
  syscalls().utimens(fd, path, atimeNs, mtimeNs);
}

/**
 * The `tree:` generation's records of every entry below root (src/observe/generation.ts), walked in C as
 * src/tree/walk.ts walks (pre-order, names in raw byte order, nothing below root followed, a directory
 * replaced while entered refused), handed to sink in chunks. skip(path) (a binary string) is asked only
 * for the entries of the directories in watch ('' for root), or for every entry when watch is null; true
 * leaves the entry and its subtree out. Returns the entries recorded. A failure throws an Error as
 * flock's, with `relPath`, the entry it happened at ('' for root); an exception of skip or sink passes.
 */
export function treeRecords(root: string, watch: readonly string[] | null, skip: (path: string) => boolean, sink: (chunk: Buffer) => void): number {
  return syscalls().treeRecords(root, watchList(watch), skip, sink);
}

const watchList = (watch: readonly string[] | null): Buffer | null => (watch === null ? null : Buffer.from(watch.map((d) => `${d}\0`).join(''), 'latin1'));

declare const indexHandle: unique symbol;
/** A walk of indexWalk's, held in C until indexEnd. */
export type IndexHandle = { readonly [indexHandle]: true };

/** The entry records of a checked manifest, for indexWalk to reuse digests from: its bytes [from, to) of fd. */
export interface PreviousRecords {
  readonly fd: number;
  readonly from: number;
  readonly to: number;
}

/**
 * One chunk of indexNext: whole manifest records (src/manifest/format.ts) in walk order, and their holes,
 * three u32 each: the offset of a record whose digest is left as zeros, and where in extra the bytes lie
 * whose sha256 is its digest (a symlink's target, a device's "major:minor"). A file's hole has none: the
 * digest's first 4 bytes hold (int32) the fd of the file, opened for the caller, who closes it.
 */
export interface IndexChunk {
  readonly records: Buffer;
  readonly holes: Buffer;
  readonly extra: Buffer;
  readonly entries: number;
  /** Each record's offset in records, in order. */
  readonly offsets: Uint32Array;
  /** The digests taken from the previous manifest. */
  readonly reused: number;
}

/** The u32 values of b (host order) without a copy where b is aligned for them. */
function u32s(b: Buffer): Uint32Array {
  const aligned = b.byteOffset % 4 === 0 ? b : Buffer.from(b);
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4);
}

/**
 * Starts a walk of root as treeRecords walks it, for a manifest of it: its records come a chunk at a time
 * from indexNext, each digest taken from previous where its record is of the same inode (same path, type,
 * size, inode, mtime and ctime), else left to the caller. A chunk opens at most maxOpen files. Errors as
 * treeRecords's; previous stays the caller's, to close after indexEnd.
 */
export function indexWalk(root: string, watch: readonly string[] | null, previous: PreviousRecords | undefined, maxOpen: number): IndexHandle {
  return syscalls().indexWalk(root, watchList(watch), previous?.fd ?? -1, previous?.from ?? 0, previous?.to ?? 0, maxOpen);
}

/** The next chunk of the walk, or null once it is done; a failure (as treeRecords's) closes the chunk's files and ends the walk. */
export function indexNext(handle: IndexHandle, skip: (path: string) => boolean): IndexChunk | null {
  const r = syscalls().indexNext(handle, skip);
  return r === null ? null : { records: r[0], holes: r[1], extra: r[2], entries: r[3], offsets: u32s(r[4]), reused: r[5] };
}

/** Ends the walk: its directories are closed, and the files of a chunk it did not hand over. */
export function indexEnd(handle: IndexHandle): void {
  syscalls().indexEnd(handle);
}

/**
 * Hashes the regular files open at fds on libuv's thread pool and closes every one: per fd, 76 bytes
 * (src/manifest/pool.ts's ANSWER: the opened inode's mode, owner, size and stamp as a manifest record
 * holds them, then the sha256), the bytes hashed, and null or, at each fd that failed, its errno's name
 * ('ENOTREG': no longer a regular file).
 */
export function hashFiles(fds: Int32Array): Promise<[Buffer, number, (string | undefined)[] | null]> {
  return syscalls().hashFiles(fds);
}

/**
 * The sha256 of the bytes [from, from + length) of the file open at fd (pread: its offset untouched), made on
 * libuv's thread pool from a dup of fd: fd may be closed at any time. A file that ends first rejects it
 * with EIO, a failed read with its errno (errors as flock's).
 */
export function hashRange(fd: number, from: number, length: number): Promise<Buffer> {
  return syscalls().hashRange(fd, from, length);
}

/**
 * A sha256 made on libuv's thread pool, off the main thread: hashStreamFeed copies the bytes and returns
 * at once, the pool hashes them in the order fed, and hashStreamDigest settles with the digest of all of
 * them once the pool is through. The stream ends there.
 */
export function hashStream(): HashStream {
  return syscalls().hashStream();
}

export function hashStreamFeed(h: HashStream, bytes: Buffer): void {
  // A feed only settles (its bytes hashed, or out of memory, which the digest then reports).
  if (bytes.length > 0) syscalls().hashStreamFeed(h, bytes).catch(() => undefined);
}

export function hashStreamDigest(h: HashStream): Promise<Buffer> {
  return syscalls().hashStreamDigest(h);
}
