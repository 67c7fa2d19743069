// Removing a tree through directory fds: past PATH_MAX, symlinks unlinked and never followed, absent is success.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeAt, removeTree } from '../../src/tree/remove.js';
import { makeDeep, removeTree as rmRf, scratch } from './fixtures.js';

let root: string;
beforeEach(() => {
  root = scratch('so-remove-');
});
afterEach(async () => {
  await rmRf(root);
});

describe('removeAt and removeTree', () => {
  it('remove a tree 2100 directories deep', () => {
    makeDeep(root, 'dd', 2100);
    removeTree(path.join(root, 'dd'));
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('unlink symlinks without following them, and take any kind of entry', () => {
    fs.mkdirSync(path.join(root, 'outside'));
    fs.writeFileSync(path.join(root, 'outside/host'), 'host\n');
    fs.mkdirSync(path.join(root, 't/d'), { recursive: true });
    fs.symlinkSync(path.join(root, 'outside'), path.join(root, 't/d/link'));
    fs.symlinkSync(path.join(root, 'outside'), path.join(root, 'alone'));
    fs.writeFileSync(path.join(root, 't/f'), 'f\n');
    const fd = fs.openSync(root, 'r');
    try {
      removeAt(fd, Buffer.from('t'));
      removeAt(fd, Buffer.from('alone'));
      removeAt(fd, Buffer.from('absent'));
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readdirSync(root)).toEqual(['outside']);
    expect(fs.readFileSync(path.join(root, 'outside/host'), 'utf8')).toBe('host\n');
  });

  it('take an absent path (or parent) as done, and fail with the errno otherwise', () => {
    removeTree(path.join(root, 'no/such'));
    fs.mkdirSync(path.join(root, 'ro/sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'ro/sub/f'), '');
    expect(() => removeTree(path.join(root, 'ro/sub/f/x'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });
});
