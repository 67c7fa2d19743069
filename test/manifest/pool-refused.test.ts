// A batch the addon refuses to start (out of memory before it took the fds) is answered, its fds closed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ANSWER, HashPool } from '../../src/manifest/pool.js';
import { scratch } from '../tree/fixtures.js';

const refuse = { next: 0 };
vi.mock('../../src/native/syscalls.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/native/syscalls.js')>();
  return {
    ...real,
    hashFiles: (fds: Int32Array) => {
      if (refuse.next > 0) {
        refuse.next--;
        throw Object.assign(new Error('ENOMEM: Cannot allocate memory, hashFiles'), { code: 'ENOMEM' });
      }
      return real.hashFiles(fds);
    },
  };
});

const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('hash pool, refused by the addon', () => {
  const dir = scratch();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers every file of a refused batch with the error, closes its fds, and runs the batches after it', async () => {
    fs.writeFileSync(path.join(dir, 'a'), 'alpha');
    const before = openFds();
    const pool = new HashPool(1);
    refuse.next = 1;
    const fds = () => [0, 1, 2].map(() => fs.openSync(path.join(dir, 'a'), 'r'));
    const [refused, after] = await Promise.all([pool.hash(fds()), pool.hash(fds())]);
    await pool.close();
    expect(refused).toEqual({ answers: Buffer.alloc(3 * ANSWER), bytes: 0, errors: Array.from({ length: 3 }, () => 'ENOMEM: Cannot allocate memory, hashFiles') });
    expect(after.errors).toBeUndefined();
    expect(after.bytes).toBe(15);
    expect(openFds()).toBe(before);
  });
});
