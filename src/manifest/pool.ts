// A pool of hash workers (worker_threads, one per core): each hashes files from fds the main thread
// opened, in batches to keep per-file messaging cheap, and closes them.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { closeQuietly } from '../tree/fsat.js';
import { hashFd } from './digest.js';

export type HashResult = { digest: string; bytes: number } | { error: string };
interface Job {
  id: number;
  fd: number;
}
type Reply = { id: number; digest?: string; bytes?: number; error?: string };

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
      const [digest, bytes] = hashFd(fd, buf, fs, crypto);
      out.push({ id, digest, bytes });
    } catch (e) {
      out.push({ id, error: (e && e.code) || String(e) });
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
  /** fds handed to workers, closed here when their reply comes (an fd belongs to the thread that opened it). */
  private readonly fds = new Map<number, number>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(threads = os.availableParallelism()) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const slot = { w: new Worker(WORKER_SOURCE, { eval: true }), load: 0 };
      slot.w.on('message', (replies: Reply[]) => {
        slot.load -= replies.length;
        for (const r of replies) {
          closeQuietly(this.fds.get(r.id) ?? -1);
          this.fds.delete(r.id);
          this.settle(r.id, r.error !== undefined ? { error: r.error } : { digest: r.digest!, bytes: r.bytes! });
        }
      });
      slot.w.on('error', (err) => this.fail(err));
      this.workers.push(slot);
    }
  }

  /** Hashes the regular file open at fd (from its current offset); the pool closes fd once done. Never rejects. */
  hash(fd: number): Promise<HashResult> {
    const id = this.nextId++;
    const p = new Promise<HashResult>((resolve) => this.waiting.set(id, resolve));
    if (this.failure) this.settle(id, { error: this.failure.message });
    else {
      this.fds.set(id, fd);
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
    target.w.postMessage(this.batch);
    this.batch = [];
  }

  /** Stops the workers; fds of jobs never sent are closed. */
  async close(): Promise<void> {
    this.batch = [];
    await Promise.all(this.workers.map((s) => s.w.terminate()));
    for (const fd of this.fds.values()) closeQuietly(fd);
    this.fds.clear();
  }

  private settle(id: number, r: HashResult): void {
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(r);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const id of [...this.waiting.keys()]) this.settle(id, { error: err.message });
  }
}
