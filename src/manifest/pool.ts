// Hashing off the main thread: batches of fds the walk opened (native indexWalk) go to the addon's
// hashFiles, which hashes them on libuv's thread pool (fstat, read, sha256 in C) and closes them, and
// answers, per file, the fields of its manifest record that come from the opened inode and the digest,
// as bytes the main thread copies into the record unread. At most `threads` batches run at once.
import { hashFiles } from '../native/syscalls.js';
import { closeQuietly } from '../tree/fsat.js';

/**
 * Batches run at once by default: one per thread of libuv's pool (4 unless UV_THREADPOOL_SIZE says), more
 * than the cores, so that a batch holding a large file leaves the others hashing: on 2 cores a full index
 * of 20k files took 215 ms with 4, 255 ms with 2.
 */
const POOL_THREADS = Number(process.env['UV_THREADPOOL_SIZE']) || 4;

/**
 * Bytes per file of a batch's answer: mode (u32, permission bits), uid, gid (u32), size, ino (u64), mtime
 * and ctime (i64 ns; ino, mtime and ctime 0 when a time does not fit), as a manifest record holds them
 * from its mode to its ctime (format.ts), then the 32 bytes of the sha256.
 */
export const FIELDS = 44;
export const ANSWER = FIELDS + 32;

/** A batch's answer: ANSWER bytes per fd, in the order given; errors[i] set where fd i failed (its bytes zero). */
export interface HashBatch {
  readonly answers: Buffer;
  readonly bytes: number;
  readonly errors?: readonly (string | undefined)[];
}

/** Error text of a file whose fd is no longer a regular file (swapped for a FIFO, a device, …). */
export const NOT_A_FILE = 'not a regular file';

/** hashFiles(fds), or its refusal to start (out of memory, before it took the fds: they are closed here) as a rejection. */
function started(fds: Int32Array): ReturnType<typeof hashFiles> {
  try {
    return hashFiles(fds);
  } catch (err) {
    for (const fd of fds) closeQuietly(fd);
    return Promise.reject(err as Error);
  }
}

export class HashPool {
  private running = 0;
  private readonly queue: { fds: Int32Array; resolve: (r: HashBatch) => void }[] = [];
  private idle: (() => void) | undefined;

  constructor(private readonly threads = POOL_THREADS) {}

  /**
   * Hashes the regular files open at fds (each from its current offset); every fd is closed once done
   * (by the addon). Never rejects: a batch that could not be answered answers each file with the error.
   */
  hash(fds: readonly number[]): Promise<HashBatch> {
    return new Promise((resolve) => {
      this.queue.push({ fds: Int32Array.from(fds), resolve });
      this.next();
    });
  }

  /** Waits for every batch given: their fds are the addon's until answered (closing them here could close a number reused since). */
  async close(): Promise<void> {
    if (this.running > 0 || this.queue.length > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  private next(): void {
    while (this.running < Math.max(1, this.threads) && this.queue.length > 0) {
      const { fds, resolve } = this.queue.shift()!;
      this.running++;
      started(fds).then(
        ([answers, bytes, errors]) => resolve(errors === null ? { answers, bytes } : { answers, bytes, errors: errors.map((e) => (e === 'ENOTREG' ? NOT_A_FILE : e)) }),
        (err: Error) => resolve({ answers: Buffer.alloc(fds.length * ANSWER), bytes: 0, errors: Array.from(fds, () => err.message) }),
      ).finally(() => {
        this.running--;
        this.next();
        if (this.running === 0 && this.queue.length === 0) this.idle?.();
      });
    }
  }
}
