import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flock } from '../../src/native/syscalls.js';
import { removeTree, scratch } from '../tree/fixtures.js';

let root: string;
const fds: number[] = [];
beforeEach(() => {
  root = scratch('so-native-');
});
afterEach(async () => {
  for (const fd of fds.splice(0)) fs.closeSync(fd);
  await removeTree(root);
});

/** A new open file description of the same file (flock(2) locks belong to those, not to processes). */
const open = (file: string, flags = 'a+') => {
  const fd = fs.openSync(file, flags);
  fds.push(fd);
  return fd;
};

describe('flock', () => {
  it.each([
    ['exclusive', 'exclusive', false],
    ['exclusive', 'shared', false],
    ['shared', 'exclusive', false],
    ['shared', 'shared', true],
  ] as const)('%s held, %s asked: %s, without blocking', (held, asked, granted) => {
    const file = path.join(root, 'lock');
    const a = open(file);
    const b = open(file);
    expect(flock(a, held)).toBe(true);
    expect(flock(b, asked)).toBe(granted);
    expect(flock(a, 'unlock')).toBe(true);
    expect(flock(b, asked)).toBe(true);
  });

  it('locks through a read-only fd, as flock(1) does', () => {
    const file = path.join(root, 'lock');
    fs.writeFileSync(file, '');
    expect(flock(open(file, 'r'), 'exclusive')).toBe(true);
    expect(flock(open(file), 'shared')).toBe(false);
  });

  it("throws other failures as Node's fs does: code, negative errno, syscall", () => {
    const fd = open(path.join(root, 'lock'));
    fs.closeSync(fds.pop()!);
    let thrown: unknown;
    try {
      flock(fd, 'exclusive');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'flock', message: 'EBADF: Bad file descriptor, flock' });
  });

  it.each([
    [[0, 'exclusively'], 'ERR_INVALID_ARG_VALUE', 'op: expected exclusive, shared or unlock'],
    [[0, 1], 'ERR_INVALID_ARG_VALUE', 'op: expected exclusive, shared or unlock'],
    [['0', 'shared'], 'ERR_INVALID_ARG_TYPE', 'fd: expected an integer'],
  ])('refuses arguments %j: %s, %s', (args, code, message) => {
    expect(() => (flock as (...a: unknown[]) => boolean)(...args)).toThrow(expect.objectContaining({ name: 'TypeError', code, message }));
  });
});
