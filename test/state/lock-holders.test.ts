import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { devNumbers, flockHolders, parseFlocks } from '../../src/state/lock-holders.js';
import { acquireLock } from '../../src/state/lock.js';
import { removeTree, scratch } from '../tree/fixtures.js';

const LOCKS = `1: OFDLCK ADVISORY  READ -1 fe:00:5457954 201 201
2: POSIX  ADVISORY  WRITE 812 00:19:1234 0 EOF
3: FLOCK  ADVISORY  WRITE 11004 fe:00:2148225 0 EOF
3: -> FLOCK  ADVISORY  WRITE 11009 fe:00:2148225 0 EOF
4: FLOCK  ADVISORY  READ 0 103:1a:77 0 EOF
`;

describe('flock holders from /proc/locks', () => {
  it('parses held FLOCK entries only: not waiters, POSIX or OFD locks; devices in hex', () => {
    expect(parseFlocks(LOCKS)).toEqual([
      { pid: 11004, major: 0xfe, minor: 0, ino: 2148225n },
      { pid: 0, major: 0x103, minor: 0x1a, ino: 77n },
    ]);
  });

  it.each([
    [0x0fe00n, 0xfe, 0],
    [0x00829n, 8, 0x29],
    [0x11031an, 0x103, 0x11a],
    [0x120006783459an, 0x12345, 0x6789a],
  ])('st_dev %s is device %s:%s', (dev, major, minor) => {
    expect(devNumbers(dev)).toEqual({ major, minor });
  });

  describe('on a real lock', () => {
    let root: string;
    beforeEach(() => {
      root = scratch('so-holders-');
    });
    afterEach(async () => {
      await removeTree(root);
    });

    it('names this process while it holds the lock, and nobody once it let go', async () => {
      const file = path.join(root, 'lock');
      const lock = await acquireLock(file);
      const st = fs.statSync(file, { bigint: true });
      expect(flockHolders(st.dev, st.ino)).toEqual([process.pid]);
      await lock.release();
      expect(flockHolders(st.dev, st.ino)).toEqual([]);
    });
  });
});
