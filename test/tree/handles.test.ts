// DirHandles on trees deeper than its handle budget: every path still resolves, through kept ancestors,
// and the open handles stay bounded by the depth plus the budget.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { relPath, type RelPath } from '../../src/model/entry.js';
import { sha256 } from '../../src/tree/digest.js';
import { O_PATH } from '../../src/tree/fsat.js';
import { DirHandles } from '../../src/tree/handles.js';
import { removeTree, scratch } from './fixtures.js';

// The listings identityXattrs makes without an open, counted (the calls go through to the addon).
const listed = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../../src/native/syscalls.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/native/syscalls.js')>();
  return { ...actual, listXattrAt: (fd: number, name: Buffer) => (listed.calls++, actual.listXattrAt(fd, name)) };
});

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

describe('DirHandles names', () => {
  it('refuses a name longer than NAME_MAX as the kernel does, naming it, for every kind of handle', () => {
    const dir = path.join(root, 'long');
    fs.mkdirSync(dir);
    const long = relPath('x'.repeat(256));
    for (const mode of ['read', 'write'] as const) {
      const h = new DirHandles(dir, mode);
      try {
        expect(() => h.dir(long)).toThrow(new RegExp(`open directory ${dir}/x{256}: ENAMETOOLONG`));
        expect(() => h.open(long, fs.constants.O_RDONLY)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
        // One byte shorter: an ordinary absence.
        expect(h.dir(relPath('x'.repeat(255)))).toBeUndefined();
      } finally {
        h.close();
      }
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
      // Listed first or read through a pinned open, the same identity.
      const id = (n: string) => {
        const pinned = h.identityXattrs(relPath(n));
        expect(h.identityXattrs(relPath(n), true)).toBe(pinned);
        return pinned;
      };
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
      // A symlink's own xattrs, never its target's.
      fs.symlinkSync('b', path.join(dir, 'lb'));
      expect(id('lb')).toBe('');
      const fd = fs.openSync(path.join(dir, 'lb'), O_PATH | fs.constants.O_NOFOLLOW);
      try {
        setAttributeSync(`/proc/self/fd/${fd}`, 'trusted.k', 'v');
      } finally {
        fs.closeSync(fd);
      }
      expect(id('lb')).toMatch(/^[0-9a-f]{64}$/);
      expect(id('lb')).not.toBe(id('b'));
      expect(() => h.identityXattrs(relPath('gone'), true)).toThrow(/read xattrs of .*xid\/gone: ENOENT/);
    } finally {
      h.close();
    }
  });

  it('lists first until LIST_FIRST_TRIES listings in a row found xattrs of the entry\'s own, then opens straight away', async () => {
    const { setAttributeSync } = await import('fs-xattr');
    const dir = path.join(root, 'labelled');
    fs.mkdirSync(dir);
    const names = Array.from({ length: 80 }, (_, i) => `f${String(i).padStart(2, '0')}`);
    for (const n of names) {
      fs.writeFileSync(path.join(dir, n), '');
      if (n !== 'f79') setAttributeSync(path.join(dir, n), 'user.label', 'x');
    }
    const labelled = new DirHandles(dir);
    const pinned = new DirHandles(dir);
    try {
      listed.calls = 0;
      for (const n of names) expect(labelled.identityXattrs(relPath(n), true)).toBe(pinned.identityXattrs(relPath(n)));
      expect(listed.calls).toBe(64);
    } finally {
      labelled.close();
      pinned.close();
    }
    // One listing that found none keeps listing first for the whole tree.
    const mixed = new DirHandles(dir);
    try {
      listed.calls = 0;
      expect(mixed.identityXattrs(relPath('f79'), true)).toBe('');
      for (const n of names) mixed.identityXattrs(relPath(n), true);
      expect(listed.calls).toBe(81);
    } finally {
      mixed.close();
    }
  });
});
