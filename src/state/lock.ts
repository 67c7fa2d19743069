// The per-overlay lock. The kernel holds it: an abstract unix socket named after the lock file's inode is
// bound while the lock is held and vanishes with its process, so a killed holder never wedges the overlay
// (flock semantics without a native addon). The lock file carries the holder's pid for messages.
import fs from 'node:fs';
import net from 'node:net';
import { StateOverlayError, ioError } from '../errors.js';

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

function socketName(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    throw ioError('open lock file', file, err);
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    return `\0state-overlay-lock/${st.dev}/${st.ino}`;
  } finally {
    fs.closeSync(fd);
  }
}

function tryBind(name: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    server.listen({ path: name }, () => {
      server.unref();
      resolve(server);
    });
  });
}

function holderOf(file: string): string {
  try {
    const pid = fs.readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(pid) ? ` by pid ${pid}` : '';
  } catch {
    // Any failure: it is the busy error being built that matters; without the pid it names no holder,
    // not a wrong one.
    return '';
  }
}

/**
 * Records the holder's pid in the lock file. Overwritten in place, never truncated to zero first: ext4
 * (auto_da_alloc) flushes a file truncated to zero and rewritten when it is closed, tens of ms at boot.
 */
function writePid(file: string): void {
  const text = `${process.pid}\n`;
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
    try {
      fs.writeSync(fd, text, 0);
      if (fs.fstatSync(fd).size !== text.length) fs.ftruncateSync(fd, text.length);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Any failure (ENOSPC on a full disk): the lock itself is the bound socket, and it is held. The pid
    // only names the holder in other processes' busy errors: an operation freeing space must not fail for it.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lock, waiting up to waitMs; a 'busy' error names the lock file and its holder. A lock is
 * taken once per command (its session): taking it again, even in this process, waits like any other.
 */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<Lock> {
  const name = socketName(file);
  const deadline = Date.now() + (opts.waitMs ?? 5000);
  for (;;) {
    let server: net.Server | undefined;
    try {
      server = await tryBind(name);
    } catch (err) {
      throw ioError('lock', file, err);
    }
    if (server) {
      writePid(file);
      const held = server;
      let released = false;
      return {
        file,
        async release() {
          if (released) return;
          released = true;
          await new Promise<void>((r) => held.close(() => r()));
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
