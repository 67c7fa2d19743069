// A pool of hash workers (worker_threads, one per core): each takes fds the main thread opened, in
// batches to keep per-file messaging cheap, checks that each is still a regular file, hashes it,
// closes it and sends back the digest with the opened inode's stat. The main thread only walks and
// opens: on two cores it was the bottleneck while the workers waited.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { closeQuietly } from '../tree/fsat.js';
import { hashFd } from '../tree/digest.js';

/** What fstat said of the opened inode: what was hashed, recorded as the entry. */
export interface HashedStat {
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}
export type HashResult = { digest: string; bytes: number; st: HashedStat } | { error: string };
interface Job {
  id: number;
  fd: number;
}
type Reply = { id: number; digest?: string; bytes?: number; st?: HashedStat; error?: string };

/** Error text of a job whose fd is no longer a regular file (swapped for a FIFO, a device, …). */
export const NOT_A_FILE = 'not a regular file';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const hashFd = ${hashFd.toString()};
const buf = Buffer.alloc(1 << 20);
parentPort.on('message', (jobs) => {
  const out = [];
  for (const { id, fd } of jobs) {
    try {
      const s = fs.fstatSync(fd, { bigint: true });
      if (!s.isFile()) {
        out.push({ id, error: ${JSON.stringify(NOT_A_FILE)} });
        continue;
      }
      const [digest, bytes] = hashFd(fd, buf, fs, crypto);
      const st = { ino: s.ino, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, mode: Number(s.mode), uid: Number(s.uid), gid: Number(s.gid), size: Number(s.size) };
      out.push({ id, digest, bytes, st });
    } catch (e) {
      out.push({ id, error: (e && e.code) || String(e) });
    } finally {
      // Read only: close(2) frees the fd whatever it reports, and the result above stands.
      try { fs.closeSync(fd); } catch {}
    }
  }
  parentPort.postMessage(out);
});
`;

const BATCH = 32;

export class HashPool {
  private readonly workers: { w: Worker; load: number }[] = [];
  private readonly waiting = new Map<number, (r: HashResult) => void>();
  private batch: Job[] = [];
  /** Jobs sent and not answered yet: their fds belong to the workers, which close them. */
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private nextId = 0;
  private failure: Error | undefined;

  constructor(threads = os.availableParallelism()) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      // The workers close fds the main thread opened: they must not track fds as their own.
      const slot = { w: new Worker(WORKER_SOURCE, { eval: true, trackUnmanagedFds: false }), load: 0 };
      slot.w.on('message', (replies: Reply[]) => {
        slot.load -= replies.length;
        this.inFlight -= replies.length;
        for (const r of replies) this.settle(r.id, r.error !== undefined ? { error: r.error } : { digest: r.digest!, bytes: r.bytes!, st: r.st! });
        if (this.inFlight === 0) this.drained?.();
      });
      slot.w.on('error', (err) => this.fail(err));
      this.workers.push(slot);
    }
  }

  /** Hashes the regular file open at fd (from its current offset); the pool closes fd once done. Never rejects. */
  hash(fd: number): Promise<HashResult> {
    const id = this.nextId++;
    const p = new Promise<HashResult>((resolve) => this.waiting.set(id, resolve));
    if (this.failure) {
      closeQuietly(fd);
      this.settle(id, { error: this.failure.message });
    } else {
      this.batch.push({ id, fd });
      if (this.batch.length >= BATCH) this.flush();
    }
    return p;
  }

  /** Sends the jobs gathered so far (call before waiting on a result). */
  flush(): void {
    if (this.batch.length === 0) return;
    const target = this.workers.reduce((a, b) => (b.load < a.load ? b : a));
    target.load += this.batch.length;
    this.inFlight += this.batch.length;
    target.w.postMessage(this.batch);
    this.batch = [];
  }

  /**
   * Stops the workers once the jobs they hold are answered (they close those fds: closing them here could
   * close a number the process has reused since); fds of jobs never sent are closed here.
   */
  async close(): Promise<void> {
    for (const j of this.batch) closeQuietly(j.fd);
    this.batch = [];
    if (this.inFlight > 0 && !this.failure) await new Promise<void>((resolve) => (this.drained = resolve));
    await Promise.all(this.workers.map((s) => s.w.terminate()));
  }

  private settle(id: number, r: HashResult): void {
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(r);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const id of [...this.waiting.keys()]) this.settle(id, { error: err.message });
    this.drained?.();
  }
}
