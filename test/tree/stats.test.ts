import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAttributesSync, setAttributeSync } from 'fs-xattr';
import { readDir, statAt } from '../../src/native/syscalls.js';
import { O_PATH } from '../../src/tree/fsat.js';
import { setOverlayXattr } from '../../src/tree/xattr.js';
import { walk, type WalkEntry } from '../../src/tree/walk.js';
import { EVERY_BYTE, INVALID_UTF8, NEWLINE, bpath, buildHostile, removeTree, scratch } from './fixtures.js';

/** Every field of fs.Stats and fs.BigIntStats, and the type tests. */
const FIELDS = ['dev', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'blksize', 'ino', 'size', 'blocks', 'atimeMs', 'mtimeMs', 'ctimeMs', 'birthtimeMs'] as const;
const NS_FIELDS = ['atimeNs', 'mtimeNs', 'ctimeNs', 'birthtimeNs'] as const;
const DATES = ['atime', 'mtime', 'ctime', 'birthtime'] as const;
const TESTS = ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isSocket', 'isCharacterDevice', 'isBlockDevice'] as const;

function fields(st: fs.Stats | fs.BigIntStats): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = st[f];
  if ('atimeNs' in st) for (const f of NS_FIELDS) out[f] = st[f];
  for (const f of DATES) out[f] = st[f].getTime();
  for (const t of TESTS) out[t] = st[t]();
  return out;
}

/** What a walk is compared with: readdirSync in raw byte order and lstatSync by whole path, pre-order. */
function* plainWalk(root: Buffer, bigint: boolean, at = ''): Generator<[string, Buffer, Record<string, unknown>]> {
  for (const name of fs.readdirSync(root, { encoding: 'buffer' }).sort(Buffer.compare)) {
    const p = Buffer.concat([root, Buffer.from('/'), name]);
    const st = bigint ? fs.lstatSync(p, { bigint: true }) : fs.lstatSync(p);
    const rel = at === '' ? name.toString('latin1') : `${at}/${name.toString('latin1')}`;
    yield [rel, name, fields(st)];
    if (st.isDirectory() && rel !== DEEP) yield* plainWalk(p, bigint, rel);
  }
}

/** buildHostile's chain of 2100 directories: compared at its top only. */
const DEEP = 'dd';
const descend = (d: WalkEntry<fs.Stats | fs.BigIntStats>): boolean => d.path !== DEEP;

const walked = (e: WalkEntry<fs.Stats | fs.BigIntStats>): [string, Buffer, Record<string, unknown>] => [e.path, Buffer.from(e.name), fields(e.st)];

describe('the native directory read', () => {
  let dir: string;
  beforeAll(async () => {
    dir = scratch();
    // Every entry type, odd names, hard links, a set-uid file (the 2100-level chain in it is left out:
    // lstat by whole path cannot reach its bottom); and a sparse file (blocks well below size), a file
    // with old times, an empty and a set-gid directory.
    await buildHostile(dir);
    const fd = fs.openSync(`${dir}/sparse`, 'w');
    fs.ftruncateSync(fd, 64 << 20);
    fs.writeSync(fd, 'end', (64 << 20) - 3);
    fs.closeSync(fd);
    fs.writeFileSync(`${dir}/old`, 'o');
    fs.utimesSync(`${dir}/old`, new Date('2001-02-03T04:05:06.789Z'), new Date('2002-03-04T05:06:07.891Z'));
    fs.mkdirSync(`${dir}/empty`);
    fs.chmodSync(`${dir}/sub`, 0o2750);
    // Times before 1970 (negative seconds, with a fraction) on a file, a symlink and a directory.
    const before = [new Date('1960-01-01T00:00:00.500Z'), new Date('1969-12-31T23:59:59.250Z')] as const;
    fs.writeFileSync(`${dir}/before-1970`, 'b');
    fs.utimesSync(`${dir}/before-1970`, ...before);
    fs.symlinkSync('old', `${dir}/link-1960`);
    fs.lutimesSync(`${dir}/link-1960`, ...before);
    fs.mkdirSync(`${dir}/dir-1960`);
    fs.utimesSync(`${dir}/dir-1960`, ...before);
  });
  afterAll(async () => {
    await removeTree(dir);
  });

  it.each([false, true])('gives every field readdirSync + lstatSync give, in walk order (bigint: %s)', (bigint) => {
    // Reading a directory moves its atime (relatime: once after each change): both walks read every
    // directory, so one walk first, and the two compared read a tree that stays as it is.
    expect([...plainWalk(Buffer.from(dir), bigint)].length).toBeGreaterThan(20);
    const got = (bigint ? [...walk(dir, { bigint: true, descend })] : [...walk(dir, { descend })]).map(walked);
    const want = [...plainWalk(Buffer.from(dir), bigint)];
    expect(got.map(([p]) => p)).toEqual(want.map(([p]) => p));
    expect(got).toEqual(want);
    const byPath = new Map(got.map(([p, , f]) => [p, f]));
    // The tree has what the comparison is meant to cover.
    expect(['dd', 'sparse', 'fifo', 'sock', 'null', 'loopdev', 'shadow', 'sub', 'hard2', INVALID_UTF8.toString('latin1'), NEWLINE.toString('latin1'), `${EVERY_BYTE.toString('latin1')}/${EVERY_BYTE.toString('latin1')}`].every((p) => byPath.has(p))).toBe(true);
    const sparse = byPath.get('sparse')!;
    expect(Number(sparse.blocks) * 512).toBeLessThan(Number(sparse.size));
    expect(Number(byPath.get('hard2')!.nlink)).toBe(2);
    expect(Number(byPath.get('sub/x')!.mode) & 0o7777).toBe(0o4755);
    expect(Number(byPath.get('sub')!.mode) & 0o7777).toBe(0o2750);
    expect(Number(byPath.get('loopdev')!.rdev)).toBe(fs.lstatSync(`${dir}/loopdev`).rdev);
    expect(byPath.get('old')!.mtime).toBe(Date.parse('2002-03-04T05:06:07.891Z'));
    for (const p of ['before-1970', 'link-1960', 'dir-1960']) {
      expect(byPath.get(p)!.mtime, p).toBe(Date.parse('1969-12-31T23:59:59.250Z'));
      if (bigint) expect(byPath.get(p)!.mtimeNs, p).toBe(-750_000_000n);
    }
  });

  it('lists the xattr names of each entry itself with its lstat, a symlink never followed', () => {
    const x = `${dir}/xattrs`;
    fs.mkdirSync(x);
    try {
      fs.writeFileSync(`${x}/tagged`, '');
      setAttributeSync(`${x}/tagged`, 'user.one', 'a');
      setAttributeSync(`${x}/tagged`, 'user.two', 'b');
      fs.mkdirSync(`${x}/opq`);
      setOverlayXattr(`${x}/opq`, 'opaque', 'y');
      fs.symlinkSync('tagged', `${x}/link`);
      setOverlayXattr(`${x}/link`, 'redirect', '/elsewhere');
      fs.writeFileSync(`${x}/bare`, '');
      const own = (p: string) => {
        const fd = fs.openSync(p, O_PATH | fs.constants.O_NOFOLLOW);
        try {
          return listAttributesSync(`/proc/self/fd/${fd}`).filter((n) => !n.startsWith('security.')).sort();
        } finally {
          fs.closeSync(fd);
        }
      };
      const got = [...walk(x, { xattrs: true })].map((e) => [e.path, (e.xattrNames ?? ['not listed']).filter((n) => !n.startsWith('security.')).sort()]);
      expect(got).toEqual([
        ['bare', []],
        ['link', ['trusted.overlay.redirect']],
        ['opq', ['trusted.overlay.opaque']],
        ['tagged', ['user.one', 'user.two']],
      ]);
      expect(got).toEqual(['bare', 'link', 'opq', 'tagged'].map((n) => [n, own(`${x}/${n}`)]));
      expect([...walk(x)].every((e) => e.xattrNames === undefined)).toBe(true);
    } finally {
      fs.rmSync(x, { recursive: true });
    }
  });

  it('reports an entry removed between the listing and its lstat as that entry failing, as lstat reports it', () => {
    const wide = `${dir}/wide`;
    fs.mkdirSync(wide);
    try {
      for (let i = 0; i < 3; i++) fs.writeFileSync(`${wide}/f${i}`, '');
      const fd = fs.openSync(wide, 'r');
      try {
        const names = readDir(fd);
        expect(names.toString('latin1')).toBe('f0\0f1\0f2\0');
        fs.rmSync(`${wide}/f1`);
        const r = new BigUint64Array(statAt(fd, names, 0, 3, true).records);
        // Slot 0 of each 22 is the errno: only the removed entry has one.
        expect([r[0], r[22], r[44]]).toEqual([0n, 2n, 0n]);
        expect(r[44 + 8]).toBe(fs.lstatSync(`${wide}/f2`, { bigint: true }).ino);
        // From the second name on: byte offset 3.
        expect(new BigUint64Array(statAt(fd, names, 3, 1, true).records)[0]).toBe(2n);
      } finally {
        fs.closeSync(fd);
      }
      const errors: unknown[] = [];
      const got = [...walk(wide, { onError: (p, err) => errors.push([p, err]) })].map((e) => e.path);
      expect(got).toEqual(['f0', 'f2']);
      expect(errors).toEqual([]);
    } finally {
      fs.rmSync(wide, { recursive: true });
    }
  });

  it("throws a failure of the directory itself as Node's fs does: code, negative errno, syscall", () => {
    const file = fs.openSync(`${dir}/plain`, 'r');
    const closed = fs.openSync(dir, 'r');
    fs.closeSync(closed);
    try {
      expect(() => readDir(file)).toThrow(expect.objectContaining({ code: 'ENOTDIR', errno: -20, syscall: 'getdents64', message: 'ENOTDIR: Not a directory, getdents64' }));
      expect(() => readDir(closed)).toThrow(expect.objectContaining({ code: 'EBADF', errno: -9, syscall: 'lseek' }));
      expect(() => statAt(file, Buffer.from('x'), 0, 1, false)).toThrow('names: fewer NUL-ended names than count');
    } finally {
      fs.closeSync(file);
    }
  });

  it('reads a directory whole however often it is read, through one fd', () => {
    const fd = fs.openSync(bpath(dir, 'sub'), 'r');
    try {
      expect(readDir(fd).toString()).toBe('x\0');
      expect(readDir(fd).toString()).toBe('x\0');
    } finally {
      fs.closeSync(fd);
    }
  });
});
