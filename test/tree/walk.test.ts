import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayPath, type EntryType } from '../../src/model/entry.js';
import { components } from '../../src/tree/fsat.js';
import { lstatBeneath, openBeneath, readlinkBeneath } from '../../src/tree/handles.js';
import { comparePaths } from '../../src/model/order.js';
import { walk } from '../../src/tree/walk.js';
import { EVERY_BYTE, INVALID_UTF8, LONG, NEWLINE, bpath, buildHostile, rel, removeTree, scratch } from './fixtures.js';

const DEPTH = 2100;
const deepChain = (): [string, EntryType][] => {
  const out: [string, EntryType][] = [];
  let p = '';
  for (let i = 0; i < DEPTH; i++) {
    p = p === '' ? 'dd' : `${p}/dd`;
    out.push([p, 'dir']);
  }
  out.push([`${p}/leaf`, 'file']);
  return out;
};

/** The hostile tree in walk order: pre-order, names in raw byte order. */
const EXPECTED: [string, EntryType][] = [
  [rel(EVERY_BYTE), 'dir'],
  [rel(EVERY_BYTE, EVERY_BYTE), 'file'],
  [rel(INVALID_UTF8), 'file'],
  ...deepChain(),
  ['etc', 'symlink'],
  ['fifo', 'fifo'],
  ['hard1', 'file'],
  ['hard2', 'file'],
  [rel(LONG), 'file'],
  ['loop1', 'symlink'],
  ['loop2', 'symlink'],
  ['loopdev', 'blk'],
  [rel(NEWLINE), 'file'],
  ['null', 'chr'],
  ['plain', 'file'],
  ['self', 'symlink'],
  ['shadow', 'symlink'],
  ['sock', 'socket'],
  ['sub', 'dir'],
  ['sub/x', 'file'],
];

describe('walk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = scratch();
    await buildHostile(dir);
  });
  afterAll(async () => {
    await removeTree(dir);
  });

  it('yields every entry of a hostile tree exactly, pre-order in byte order, never following a symlink', () => {
    const errors: string[] = [];
    const got = [...walk(dir, { onError: (p, e) => errors.push(`${displayPath(p)}: ${e.message}`) })].map((e) => [e.path, e.type]);
    expect(errors).toEqual([]);
    expect(got).toEqual(EXPECTED);
  });

  it('keeps raw bytes of names and reaches past PATH_MAX', () => {
    let content = '';
    for (const e of walk(dir)) if (e.path.endsWith('/leaf')) content = fs.readFileSync(Buffer.from(`/proc/self/fd/${e.dirFd}/leaf`), 'utf8');
    expect(content).toBe('bottom\n');
    const entries = [...walk(dir)];
    const leaf = entries.find((e) => e.path.endsWith('/leaf'))!;
    expect(leaf.path.length).toBe(DEPTH * 3 + 4);
    expect(leaf.path.length).toBeGreaterThan(4096);
    const every = entries.find((e) => e.path === rel(EVERY_BYTE, EVERY_BYTE))!;
    expect(Buffer.from(every.path, 'latin1')).toEqual(Buffer.concat([EVERY_BYTE, Buffer.from('/'), EVERY_BYTE]));
    expect(every.name).toEqual(EVERY_BYTE);
  });

  it('reports hardlinks as two entries of one inode, with lstat data', () => {
    const byPath = new Map([...walk(dir, { bigint: true })].map((e) => [e.path, e]));
    expect(byPath.get(rel('hard1'))!.st.ino).toBe(byPath.get(rel('hard2'))!.st.ino);
    expect(byPath.get(rel('hard1'))!.st.nlink).toBe(2n);
    expect(Number(byPath.get(rel('sub/x'))!.st.mode) & 0o7777).toBe(0o4755);
    expect(typeof byPath.get(rel('plain'))!.st.mtimeNs).toBe('bigint');
  });

  it('skips subtrees when descend() says so', () => {
    const got = [...walk(dir, { descend: (d) => d.path !== 'dd' && d.path !== rel(EVERY_BYTE) })].map((e) => e.path);
    expect(got).toEqual(EXPECTED.map(([p]) => p).filter((p) => !p.startsWith('dd/') && !p.startsWith(rel(EVERY_BYTE) + '/')));
  });

  it('orders paths with comparePaths exactly as it walks', () => {
    const paths = EXPECTED.map(([p]) => rel(p));
    expect([...paths].sort(comparePaths)).toEqual(paths);
    expect(comparePaths(rel('a/b'), rel('a-c'))).toBeLessThan(0);
    expect(comparePaths(rel('a'), rel('a/b'))).toBeLessThan(0);
    expect(comparePaths(rel('a\xff'), rel('a/b'))).toBeGreaterThan(0);
  });

  it('closes every directory fd, also when the consumer stops early', () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    for (const e of walk(dir)) if (e.path.length > 300) break;
    expect([...walk(dir)].length).toBe(EXPECTED.length);
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
  });

  it('fails clearly when the root itself cannot be read', () => {
    expect(() => [...walk(`${dir}/missing`)]).toThrow(`read directory ${dir}/missing: ENOENT`);
  });

  it('leaves the working directory where it was between entries, after an early stop and after a throw', () => {
    const home = process.cwd();
    const homeIno = fs.statSync('.').ino;
    let checked = 0;
    for (const e of walk(dir)) {
      if (e.type === 'dir') {
        expect(fs.statSync('.').ino).toBe(homeIno);
        checked++;
      }
      if (e.path === 'sub') break;
    }
    expect(checked).toBeGreaterThan(1);
    expect(() => {
      for (const e of walk(dir)) if (e.path === 'sub/x') throw new Error('consumer failed');
    }).toThrow('consumer failed');
    expect(process.cwd()).toBe(home);
    expect(fs.statSync('.').ino).toBe(homeIno);
  });

  it('walks the same from a worker thread, where it cannot chdir', async () => {
    const url = new URL('../../dist/tree/walk.js', import.meta.url).href;
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(({ walk }) => parentPort.postMessage([...walk(workerData.dir)].map((e) => [e.path, e.type])));`;
    const worker = new Worker(code, { eval: true, workerData: { url, dir } });
    const got = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(got).toEqual(EXPECTED);
  });
});

describe('walk errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratch();
    fs.mkdirSync(`${dir}/locked`, { mode: 0o700 });
    fs.writeFileSync(`${dir}/locked/secret`, 's');
    fs.mkdirSync(`${dir}/open`);
    fs.writeFileSync(`${dir}/open/a`, 'a');
    fs.writeFileSync(`${dir}/open/b`, 'b');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports an unreadable directory through onError and goes on', () => {
    const errors: [string, string][] = [];
    process.seteuid!(65534);
    let got: string[];
    try {
      got = [...walk(dir, { onError: (p, e) => errors.push([p, (e as NodeJS.ErrnoException).code!]) })].map((e) => e.path);
    } finally {
      process.seteuid!(0);
    }
    expect(got).toEqual(['locked', 'open', 'open/a', 'open/b']);
    expect(errors).toEqual([['locked', 'EACCES']]);
  });

  it('reports a directory replaced between its lstat and its opening, and skips it', () => {
    const errors: [string, string][] = [];
    const got: string[] = [];
    fs.mkdirSync(`${dir}/swap`);
    fs.writeFileSync(`${dir}/swap/old`, 'o');
    try {
      for (const e of walk(dir, { onError: (p, err) => errors.push([p, (err as NodeJS.ErrnoException).code!]) })) {
        got.push(e.path);
        if (e.path === 'swap') {
          fs.renameSync(`${dir}/swap`, `${dir}/swapped`);
          fs.mkdirSync(`${dir}/swap`);
          fs.writeFileSync(`${dir}/swap/new`, 'n');
        }
      }
    } finally {
      fs.rmSync(`${dir}/swap`, { recursive: true });
      fs.rmSync(`${dir}/swapped`, { recursive: true });
    }
    expect(got).toEqual(['locked', 'locked/secret', 'open', 'open/a', 'open/b', 'swap']);
    expect(errors).toEqual([['swap', 'ESTALE']]);
  });

  it('reports an entry that vanished between listing and lstat', () => {
    // Children are stat'ed a chunk of 1024 at a time: an entry removed before its chunk is reached was
    // listed but is gone by its lstat.
    const wide = `${dir}/wide`;
    fs.mkdirSync(wide);
    const names = Array.from({ length: 1500 }, (_, i) => `f${String(i).padStart(4, '0')}`);
    for (const n of names) fs.writeFileSync(`${wide}/${n}`, '');
    const errors: [string, string][] = [];
    const got: string[] = [];
    try {
      for (const e of walk(wide, { onError: (p, err) => errors.push([p, (err as NodeJS.ErrnoException).code!]) })) {
        got.push(e.path);
        if (e.path === 'f0000') fs.rmSync(`${wide}/f1400`);
      }
    } finally {
      fs.rmSync(wide, { recursive: true });
    }
    expect(got).toEqual(names.filter((n) => n !== 'f1400'));
    expect(errors).toEqual([['f1400', 'ENOENT']]);
  });
});

describe('fd-relative access beneath a root', () => {
  let dir: string;
  beforeAll(async () => {
    dir = scratch();
    await buildHostile(dir);
  });
  afterAll(async () => {
    await removeTree(dir);
  });

  it.each([
    ['plain', 'file'],
    ['shadow', 'symlink'],
    ['etc/shadow', undefined],
    ['self/plain', undefined],
    ['loop1/x', undefined],
    ['missing', undefined],
    ['plain/x', undefined],
    [rel(EVERY_BYTE, EVERY_BYTE), 'file'],
  ] as const)('lstatBeneath #%#', (p, type) => {
    const st = lstatBeneath(dir, rel(p));
    expect(st === undefined ? undefined : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other').toBe(type);
  });

  it('never opens through a symlink', () => {
    expect(() => openBeneath(dir, rel('shadow'), fs.constants.O_RDONLY)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(() => openBeneath(dir, rel('etc/passwd'), fs.constants.O_RDONLY)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    const fd = openBeneath(dir, rel('sub/x'), fs.constants.O_RDONLY);
    expect(fs.readFileSync(fd, 'utf8')).toBe('x\n');
    fs.closeSync(fd);
    expect(readlinkBeneath(dir, rel('shadow')).toString()).toBe('/etc/shadow');
  });

  it.each([['a//b'], ['../x'], ['a/./b'], ['/abs'], ['a/']])('rejects the path %j', (p) => {
    expect(() => components(rel(p))).toThrow(`invalid relative path ${JSON.stringify(p)}`);
  });

  it('reaches entries deeper than PATH_MAX', () => {
    const deep = rel(Array.from({ length: DEPTH }, () => 'dd').join('/') + '/leaf');
    expect(lstatBeneath(dir, deep)?.size).toBe(7);
    expect(bpath(dir, deep).length).toBeGreaterThan(4096);
  });
});
