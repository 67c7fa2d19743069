// The per-overlay lock: flock(2) on the lock file, held through an fd kept open for the lock's life. The
// kernel ties it to the file, not to a name in some namespace, so it holds across network and mount
// namespaces, an admin's `flock LOCKFILE CMD` holds the overlay still, and it goes with its holder's
// last fd (a killed holder never wedges the overlay). The file also carries the holder's pid.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { flock } from '../native/syscalls.js';
import { flockHolders } from './lock-holders.js';

export interface Lock {
  readonly file: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for a busy lock before failing (default 5000 ms). */
  readonly waitMs?: number;
  /** Who is asking, for the busy message (e.g. the overlay NAME). */
  readonly what?: string;
}

// Node has no O_CLOEXEC constant, but libuv opens every fd with it: no child the holder spawns (mount,
// a background indexer) inherits the lock and keeps it past the holder.
const OPEN_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;

/** The same file: the path still names the inode the fd has open. */
function samePath(fd: number, file: string): boolean {
  const held = fs.fstatSync(fd, { bigint: true });
  let now: fs.BigIntStats;
  try {
    now = fs.lstatSync(file, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  return now.dev === held.dev && now.ino === held.ino;
}

/**
 * One attempt: the fd of the locked file, or undefined when another holds it. A lock taken on a file
 * that was unlinked or replaced meanwhile (by a holder that removed it, or an admin's rm) locks nothing
 * the next process opens, so that one is dropped and the path opened again.
 */
function tryLock(file: string): number | undefined {
  for (;;) {
    let fd: number;
    try {
      fd = fs.openSync(file, OPEN_FLAGS, 0o600);
    } catch (err) {
      throw ioError('open lock file', file, err);
    }
    try {
      if (!flock(fd, 'exclusive')) {
        fs.closeSync(fd);
        return undefined;
      }
      if (samePath(fd, file)) return fd;
    } catch (err) {
      fs.closeSync(fd);
      throw ioError('lock', file, err);
    }
    fs.closeSync(fd);
  }
}

/** The holder for the busy message: the kernel's list of flock holders first, the pid the file records otherwise. */
function holderOf(file: string): string {
  try {
    const st = fs.lstatSync(file, { bigint: true });
    const pids = flockHolders(st.dev, st.ino);
    if (pids !== undefined && pids.length > 0) return ` by pid${pids.length > 1 ? 's' : ''} ${pids.join(', ')}`;
    const pid = fs.readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(pid) ? ` by pid ${pid}` : '';
  } catch {
    // Any failure: it is the busy error being built that matters; without the pid it names no holder,
    // not a wrong one.
    return '';
  }
}

/**
 * Records the holder's pid in the lock file, through the locked fd. Overwritten in place, never truncated
 * to zero first: ext4 (auto_da_alloc) flushes a file truncated to zero and rewritten when it is closed,
 * tens of ms at boot.
 */
function writePid(fd: number): void {
  const text = `${process.pid}\n`;
  try {
    fs.writeSync(fd, text, 0);
    if (fs.fstatSync(fd).size !== text.length) fs.ftruncateSync(fd, text.length);
  } catch {
    // Any failure (ENOSPC on a full disk): the lock itself is held. The pid only names the holder in
    // other processes' busy errors: an operation freeing space must not fail for it.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lock, waiting up to waitMs; a 'busy' error names the lock file and its holder. A lock is
 * taken once per command (its session): taking it again, even in this process, waits like any other
 * (each take opens the file anew, and flock(2) locks of two open files exclude each other).
 */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<Lock> {
  const deadline = Date.now() + (opts.waitMs ?? 5000);
  for (;;) {
    const fd = tryLock(file);
    if (fd !== undefined) {
      writePid(fd);
      let released = false;
      return {
        file,
        async release() {
          if (released) return;
          released = true;
          // Closing the last fd of the open file would release it too; unlocking first says so, and
          // holds even if a copy of the fd ever outlived this one.
          try {
            flock(fd, 'unlock');
          } catch (err) {
            throw ioError('unlock', file, err);
          } finally {
            fs.closeSync(fd);
          }
        },
      };
    }
    if (Date.now() >= deadline) {
      throw new StateOverlayError('busy', `${opts.what ? `${opts.what}: ` : ''}lock ${file} is held${holderOf(file)}`, { path: file });
    }
    await sleep(50);
  }
}

/** Runs fn under the lock and releases it whatever happens. */
export async function withLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(file, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
