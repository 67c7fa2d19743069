import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER, FIELDS, HashPool, NOT_A_FILE } from '../../src/manifest/pool.js';
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

  it("hashes files, answers each with the opened inode's record fields and digest, refuses a FIFO, and closes every fd it was given", async () => {
    const before = openFds();
    const pool = new HashPool(2);
    try {
      const files = Array.from({ length: 100 }, () => fs.openSync(path.join(dir, 'a'), NB));
      const fifo = fs.openSync(path.join(dir, 'fifo'), NB);
      const batches = await Promise.all([pool.hash(files.slice(0, 60)), pool.hash([...files.slice(60), fifo])]);
      const st = fs.statSync(path.join(dir, 'a'), { bigint: true });
      const want = Buffer.alloc(ANSWER);
      let o = want.writeUInt32LE(Number(st.mode) & 0o7777, 0);
      o = want.writeUInt32LE(Number(st.uid), o);
      o = want.writeUInt32LE(Number(st.gid), o);
      o = want.writeBigUInt64LE(5n, o);
      o = want.writeBigUInt64LE(st.ino, o);
      o = want.writeBigInt64LE(st.mtimeNs, o);
      o = want.writeBigInt64LE(st.ctimeNs, o);
      expect(o).toBe(FIELDS);
      crypto.createHash('sha256').update('alpha').digest().copy(want, FIELDS);
      const answers = Buffer.concat(batches.map((b) => b.answers));
      expect(answers.length).toBe(101 * ANSWER);
      for (let i = 0; i < 100; i++) expect(answers.subarray(i * ANSWER, (i + 1) * ANSWER).equals(want), `file ${i}`).toBe(true);
      expect(batches.map((b) => b.bytes)).toEqual([300, 200]);
      expect(batches[0]!.errors).toBeUndefined();
      expect(batches[1]!.errors).toEqual([...Array.from({ length: 40 }, () => undefined), NOT_A_FILE]);
      expect(answers.subarray(100 * ANSWER).equals(Buffer.alloc(ANSWER))).toBe(true);
    } finally {
      await pool.close();
    }
    expect(openFds()).toBe(before);
  });

  it("answers a file it cannot read with the errno's name, and the others of its batch as usual", async () => {
    const before = openFds();
    const pool = new HashPool();
    try {
      const writeOnly = fs.openSync(path.join(dir, 'a'), fs.constants.O_WRONLY);
      const r = await pool.hash([fs.openSync(path.join(dir, 'a'), NB), writeOnly]);
      expect(r.errors).toEqual([undefined, 'EBADF']);
      expect(r.bytes).toBe(5);
      expect(r.answers.subarray(FIELDS, ANSWER).toString('hex')).toBe(crypto.createHash('sha256').update('alpha').digest('hex'));
      expect(r.answers.subarray(ANSWER).equals(Buffer.alloc(ANSWER))).toBe(true);
    } finally {
      await pool.close();
    }
    expect(openFds()).toBe(before);
  });

  it('waits for the batches in flight when closed early, which close their fds', async () => {
    const before = openFds();
    const pool = new HashPool(1);
    const pending = Array.from({ length: 10 }, () => pool.hash(Array.from({ length: 7 }, () => fs.openSync(path.join(dir, 'a'), NB))));
    await pool.close();
    expect(openFds()).toBe(before);
    const answered = await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    expect(answered).not.toBe('timeout');
  });
});
