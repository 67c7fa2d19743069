// Addressing entries relative to open directory fds (/proc/self/fd/N/NAME): no symlink is followed in
// any component, and paths of any depth stay short (past PATH_MAX).
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { displayPath, isEntryPath, toBytes, type EntryType, type RelPath } from '../model/entry.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
/** Linux O_PATH: a handle on the entry itself (any type, symlinks too) without opening its content. */
export const O_PATH = 0o10000000;
export const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
/** Reading a regular file: never blocks on a FIFO swapped in, never follows a symlink. */
export const FILE_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

/** `/proc/self/fd/FD` or `/proc/self/fd/FD/NAME`, as bytes. */
export function fdPath(fd: number, name?: Buffer): Buffer {
  const head = Buffer.from(`/proc/self/fd/${fd}`, 'latin1');
  return name === undefined ? head : Buffer.concat([head, Buffer.from('/'), name]);
}

export function entryType(st: { mode: number | bigint }): EntryType {
  const fmt = Number(st.mode) & 0o170000;
  switch (fmt) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    case 0o020000: return 'chr';
    case 0o060000: return 'blk';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    default: throw new StateOverlayError('internal', `unknown file type ${fmt.toString(8)}`);
  }
}

/** Linux dev_t decoding (glibc gnu_dev_major/minor), for numbers and bigints. */
export function majorMinor(rdev: number | bigint): [number, number] {
  const d = BigInt(rdev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return [Number(major), Number(minor)];
}

/** The components of a RelPath; rejects '', '.', '..' and empty components: such a path never names an entry. */
export function components(rel: RelPath): Buffer[] {
  if (rel === '') return [];
  if (!isEntryPath(rel)) throw new StateOverlayError('unsafe', `invalid relative path ${JSON.stringify(displayPath(rel))}`);
  return rel.split('/').map(toBytes);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Any failure: close(2) frees the number whatever it reports. These are read-only or already fsynced
    // handles, often closed in cleanup after another error, which a close error must not replace.
  }
}

/**
 * Opens rootDir/rel with `flags | O_NOFOLLOW`, walking component by component with O_NOFOLLOW directory
 * handles, so no symlink is followed anywhere below rootDir (rootDir itself may be a symlink).
 * The caller closes the returned fd. Errors are Node errno errors (ENOENT, ENOTDIR, ELOOP, ...).
 */
export function openBeneath(rootDir: string, rel: RelPath, flags: number): number {
  const parts = components(rel);
  if (parts.length === 0) return fs.openSync(rootDir, flags);
  let dirFd = fs.openSync(rootDir, O_PATH | O_DIRECTORY);
  try {
    for (let i = 0; i < parts.length - 1; i++) {
      const next = fs.openSync(fdPath(dirFd, parts[i]), O_PATH | O_DIRECTORY | O_NOFOLLOW);
      fs.closeSync(dirFd);
      dirFd = next;
    }
    return fs.openSync(fdPath(dirFd, parts[parts.length - 1]), flags | O_NOFOLLOW);
  } finally {
    closeQuietly(dirFd);
  }
}

/** Runs fn with an O_PATH handle on rel's parent directory (opened beneath rootDir) and rel's last name. */
export function atParent<T>(rootDir: string, rel: RelPath, fn: (dirFd: number, name: Buffer) => T): T {
  const parts = components(rel);
  const name = parts.pop();
  if (name === undefined) throw new StateOverlayError('internal', 'atParent needs a non-empty path');
  const dirFd = openBeneath(rootDir, parts.map((p) => p.toString('latin1')).join('/'), O_PATH | O_DIRECTORY);
  try {
    return fn(dirFd, name);
  } finally {
    closeQuietly(dirFd);
  }
}

const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);
/** True for the errno codes that mean "no such entry below the root" (missing, or under a non-directory/symlink). */
export const isAbsent = (err: unknown): boolean => ABSENT.has((err as NodeJS.ErrnoException)?.code ?? '');

/** lstat of rootDir/rel without following any symlink; undefined when absent (see isAbsent). */
export function lstatBeneath(rootDir: string, rel: RelPath): fs.Stats | undefined;
export function lstatBeneath(rootDir: string, rel: RelPath, opts: { bigint: true }): fs.BigIntStats | undefined;
export function lstatBeneath(rootDir: string, rel: RelPath, opts?: { bigint: true }): fs.Stats | fs.BigIntStats | undefined {
  try {
    if (rel === '') return opts ? fs.lstatSync(rootDir, opts) : fs.lstatSync(rootDir);
    return atParent(rootDir, rel, (dirFd, name) => (opts ? fs.lstatSync(fdPath(dirFd, name), opts) : fs.lstatSync(fdPath(dirFd, name))));
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw ioError('lstat', `${rootDir}/${displayPath(rel)}`, err);
  }
}

/** readlink of rootDir/rel (a symlink) as raw bytes, without following any component. */
export function readlinkBeneath(rootDir: string, rel: RelPath): Buffer {
  return atParent(rootDir, rel, (dirFd, name) => fs.readlinkSync(fdPath(dirFd, name), { encoding: 'buffer' }));
}

export { closeQuietly };
