// DirHandles on trees deeper than its handle budget: every path still resolves, through kept ancestors,
// and the open handles stay bounded by the depth plus the budget.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relPath, type RelPath } from '../../src/model/entry.js';
import { sha256 } from '../../src/tree/digest.js';
import { DirHandles } from '../../src/tree/handles.js';
import { removeTree, scratch } from './fixtures.js';

const DEPTH = 700;
let root: string;
const paths: RelPath[] = [];
beforeAll(() => {
  root = scratch('so-probe-');
  // Built from inside, one level at a time: the full paths are far past PATH_MAX.
  const fd = fs.openSync(root, 'r');
  let dir = `/proc/self/fd/${fd}`;
  const opened = [fd];
  let rel = '';
  for (let i = 0; i < DEPTH; i++) {
    fs.writeFileSync(`${dir}/f`, `level ${i}\n`);
    paths.push(relPath(rel === '' ? 'f' : `${rel}/f`));
    fs.mkdirSync(`${dir}/d`);
    const next = fs.openSync(`${dir}/d`, 'r');
    opened.push(next);
    dir = `/proc/self/fd/${next}`;
    rel = rel === '' ? 'd' : `${rel}/d`;
    if (opened.length > 8) fs.closeSync(opened.shift()!);
  }
  for (const o of opened) fs.closeSync(o);
});
afterAll(async () => {
  await removeTree(root);
});

const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('DirHandles', () => {
  it(`reads every level of a tree ${DEPTH} directories deep with bounded handles`, () => {
    const before = openFds();
    const probe = new DirHandles(root);
    let most = 0;
    try {
      // Deepest first, then back up: the worst order for a cache of ancestors.
      for (const p of [...paths].reverse().concat(paths)) {
        const st = probe.lstat(p);
        expect(st?.isFile(), p).toBe(true);
        const level = p.split('/').length - 1;
        expect(probe.digest(p, st!)).toBe(sha256(`level ${level}\n`));
        expect(probe.xattrs(p).namespaces).toEqual([]);
        most = Math.max(most, openFds() - before);
      }
      expect(probe.lstat(relPath(`${paths.at(-1)!.slice(0, -2)}/missing`))).toBeUndefined();
    } finally {
      probe.close();
    }
    expect(most).toBeGreaterThanOrEqual(DEPTH);
    expect(most).toBeLessThanOrEqual(DEPTH + 512 + 2);
    expect(openFds()).toBe(before);
  });

  it('never resolves a path through a symlink', () => {
    fs.mkdirSync(path.join(root, 'real'));
    fs.writeFileSync(path.join(root, 'real/file'), 'x');
    fs.symlinkSync('real', path.join(root, 'link'));
    const probe = new DirHandles(root);
    try {
      expect(probe.lstat(relPath('real/file'))?.isFile()).toBe(true);
      expect(probe.lstat(relPath('link/file'))).toBeUndefined();
      expect(probe.lstat(relPath('link'))?.isSymbolicLink()).toBe(true);
      expect(() => probe.xattrs(relPath('link/file'))).toThrow(`read overlay xattrs of ${root}/link/file: ENOENT`);
    } finally {
      probe.close();
    }
  });
});

describe('DirHandles.identityXattrs', () => {
  it('is empty without xattrs, ignores overlay\'s own, and tells apart names, values and sets', async () => {
    const { setAttributeSync, removeAttributeSync } = await import('fs-xattr');
    const dir = path.join(root, 'xid');
    fs.mkdirSync(dir);
    for (const n of ['a', 'b', 'c', 'd']) fs.writeFileSync(path.join(dir, n), 'same\n');
    fs.symlinkSync('a', path.join(dir, 'l'));
    const h = new DirHandles(dir);
    try {
      const id = (n: string) => h.identityXattrs(relPath(n));
      expect(id('a')).toBe('');
      expect(id('l')).toBe('');
      setAttributeSync(path.join(dir, 'a'), 'trusted.overlay.opaque', 'y');
      setAttributeSync(path.join(dir, 'a'), 'user.overlay.origin', 'x');
      expect(id('a')).toBe('');
      setAttributeSync(path.join(dir, 'b'), 'user.k', 'v');
      setAttributeSync(path.join(dir, 'c'), 'user.k', 'w');
      setAttributeSync(path.join(dir, 'd'), 'user.k', 'v');
      expect(id('b')).toMatch(/^[0-9a-f]{64}$/);
      expect(id('b')).toBe(id('d'));
      expect(id('b')).not.toBe(id('c'));
      // The same pairs set in another order are the same identity; one more pair is another.
      setAttributeSync(path.join(dir, 'b'), 'user.z', '1');
      removeAttributeSync(path.join(dir, 'd'), 'user.k');
      setAttributeSync(path.join(dir, 'd'), 'user.z', '1');
      setAttributeSync(path.join(dir, 'd'), 'user.k', 'v');
      expect(id('b')).toBe(id('d'));
      removeAttributeSync(path.join(dir, 'd'), 'user.k');
      expect(id('b')).not.toBe(id('d'));
      expect(id('d')).not.toBe('');
    } finally {
      h.close();
    }
  });
});
