// The primitives of addressing entries relative to open directory fds (/proc/self/fd/N/NAME): flags,
// entry types, device numbers, path components. The handles themselves are handles.ts.
import fs from 'node:fs';
import { StateOverlayError } from '../errors.js';
import { NAME_MAX, displayPath, isEntryPath, relPath, toBytes, type EntryType, type RelPath } from '../model/entry.js';
import { openAt } from '../native/syscalls.js';

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

/**
 * openat(2) of name in the directory parent (the addon's openAt: one lookup of the name, 3.6 against 7.9
 * µs an open and close for a path through /proc/self/fd, which procfs resolves first). A name longer
 * than NAME_MAX, which no entry has, goes through the path, where the kernel refuses it as it always did.
 */
export function openIn([parent, name]: readonly [number, Buffer], flags: number): number {
  return name.length <= NAME_MAX ? openAt(parent, name, flags) : fs.openSync(fdPath(parent, name), flags);
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
  return rel.split('/').map((c) => toBytes(relPath(c)));
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Any failure: close(2) frees the number whatever it reports. These are read-only or already fsynced
    // handles, often closed in cleanup after another error, which a close error must not replace.
  }
}

const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);
/** True for the errno codes that mean "no such entry below the root" (missing, or under a non-directory/symlink). */
export const isAbsent = (err: unknown): boolean => ABSENT.has((err as NodeJS.ErrnoException)?.code ?? '');

export { closeQuietly };
