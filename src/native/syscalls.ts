// The one loader of the project's own N-API addon (native/syscalls.c): system calls Node has no binding
// for. Loaded on first use, so a command that never needs it starts without it.
import { createRequire } from 'node:module';
import { StateOverlayError, ioError } from '../errors.js';

/** What flock(2) is asked to do; every call is non-blocking (LOCK_NB). */
export type FlockOp = 'exclusive' | 'shared' | 'unlock';

interface Syscalls {
  flock(fd: number, op: FlockOp): boolean;
  journalOpen(path: string): number;
  journalSend(fd: number, entry: Buffer): void;
  syncfs(fd: number): void;
}

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

/** An AF_UNIX datagram socket connected to path (journald's native socket), close-on-exec; errors as flock's. */
export function journalOpen(path: string): number {
  return syscalls().journalOpen(path);
}

/** Sends one encoded journal entry on a socket from journalOpen(); one too large for a datagram goes as a sealed memfd. */
export function journalSend(fd: number, entry: Buffer): void {
  syscalls().journalSend(fd, entry);
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
