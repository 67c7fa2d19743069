import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashPool, NOT_A_FILE } from '../../src/manifest/pool.js';
import { scratch } from '../tree/fixtures.js';

const openFds = () => fs.readdirSync('/proc/self/fd').length;
const NB = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

describe('hash pool', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratch();
    fs.writeFileSync(path.join(dir, 'a'), 'alpha');
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("hashes a file, reports the opened inode's stat, refuses a FIFO, and closes every fd it was given", async () => {
    const before = openFds();
    const pool = new HashPool(2);
    try {
      const files = Array.from({ length: 100 }, () => fs.openSync(path.join(dir, 'a'), NB));
      const fifo = fs.openSync(path.join(dir, 'fifo'), NB);
      const results = files.map((fd) => pool.hash(fd));
      const refused = pool.hash(fifo);
      pool.flush();
      const st = fs.statSync(path.join(dir, 'a'), { bigint: true });
      for (const r of await Promise.all(results)) {
        expect(r).toEqual({
          digest: crypto.createHash('sha256').update('alpha').digest('hex'),
          bytes: 5,
          st: { ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: 5 },
        });
      }
      expect(await refused).toEqual({ error: NOT_A_FILE });
    } finally {
      await pool.close();
    }
    expect(openFds()).toBe(before);
  });

  it('closes the fds of jobs never sent and waits for those in flight when closed early', async () => {
    const before = openFds();
    const pool = new HashPool(1);
    const pending = Array.from({ length: 70 }, () => pool.hash(fs.openSync(path.join(dir, 'a'), NB)));
    // 64 were sent in two batches of 32; 6 wait in the batch and are closed unsent.
    await pool.close();
    expect(openFds()).toBe(before);
    const answered = await Promise.race([Promise.all(pending.slice(0, 64)), new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    expect(answered).not.toBe('timeout');
  });
});
