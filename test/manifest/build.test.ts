import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/manifest/build.js';
import type { BaseEntry, RelPath } from '../../src/model/entry.js';
import { withHandles } from '../../src/tree/handles.js';
import { readManifest } from '../../src/manifest/store.js';
import { walk } from '../../src/tree/walk.js';
import { EVERY_BYTE, buildHostile, rel, removeTree, scratch } from '../tree/fixtures.js';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** Stat and digest of the chosen paths through one set of handles; absent paths (or paths under a symlink) omitted. */
const hashPaths = (root: string, paths: Iterable<RelPath>): Map<RelPath, BaseEntry> =>
  withHandles(root, (h) => new Map([...paths].flatMap((p): [RelPath, BaseEntry][] => {
    const e = h.entry(p);
    return e === undefined ? [] : [[p, e]];
  })));

describe('buildManifest on a hostile base', () => {
  let dir: string;
  let base: string;
  beforeAll(async () => {
    dir = scratch();
    base = path.join(dir, 'base');
    fs.mkdirSync(base);
    await buildHostile(base);
  });
  afterAll(async () => {
    await removeTree(dir);
  });

  it('records every entry in walk order with the digests hashPaths computes', async () => {
    const out = path.join(dir, 'm/hostile.manifest');
    const r = await buildManifest(base, out);
    const entries = [...readManifest(out)];
    const paths = [...walk(base)].map((e) => e.path);
    expect(entries.map((e) => e.path)).toEqual(paths);
    expect(r).toMatchObject({ entries: paths.length, reusedDigests: 0, bytes: fs.statSync(out).size });
    const live = hashPaths(base, paths);
    expect(entries).toEqual(paths.map((p) => live.get(p)));
    const by = new Map(entries.map((e) => [e.path, e]));
    expect(by.get(rel('plain'))).toEqual({ path: 'plain', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 14, digest: sha('plain content\n') });
    expect(by.get(rel('shadow'))!.digest).toBe(sha('/etc/shadow'));
    expect(by.get(rel('null'))!.digest).toBe(sha('1:3'));
    expect(by.get(rel('loopdev'))!.digest).toBe(sha('7:200'));
    expect(by.get(rel('fifo'))!.digest).toBe('');
    expect(by.get(rel('sock'))!.type).toBe('socket');
    expect(by.get(rel('sub/x'))!.mode).toBe(0o4755);
    expect(by.get(rel('sub'))!.mode).toBe(0o750);
    expect(by.get(rel(EVERY_BYTE, EVERY_BYTE))!.digest).toBe(sha('every byte\n'));
    const files = entries.filter((e) => e.type === 'file');
    expect(r.hashedBytes).toBe(files.reduce((n, e) => n + e.size, 0));
    expect(fs.readdirSync(path.join(dir, 'm'))).toEqual(['hostile.manifest']);
  });

  it('omits absent paths and paths under symlinks from hashPaths', () => {
    expect([...hashPaths(base, [rel('missing'), rel('etc/shadow'), rel('self/plain'), rel('plain')]).keys()]).toEqual(['plain']);
  });

  it('fails naming the base and leaves no temp file when the base is missing', async () => {
    const out = path.join(dir, 'm2/x.manifest');
    await expect(buildManifest(path.join(dir, 'nope'), out)).rejects.toThrow(`read directory ${dir}/nope: ENOENT`);
    expect(fs.readdirSync(path.join(dir, 'm2'))).toEqual([]);
  });
});

describe('re-indexing reuses digests of unchanged inodes', () => {
  let dir: string;
  let base: string;
  const FILES = 400;
  const SIZE = 8192;
  beforeAll(() => {
    dir = scratch();
    base = path.join(dir, 'base');
    for (let d = 0; d < 20; d++) fs.mkdirSync(path.join(base, `d${d}`), { recursive: true });
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(base, `d${i % 20}`, `f${i}`), Buffer.alloc(SIZE, i % 251));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('hashes only the changed 1% of the bytes, and the result equals a full index', async () => {
    const m0 = path.join(dir, 'm0');
    const full0 = await buildManifest(base, m0);
    expect(full0.hashedBytes).toBe(FILES * SIZE);
    // change 1%: 4 files, same size, content rewritten
    for (const i of [3, 77, 150, 399]) fs.writeFileSync(path.join(base, `d${i % 20}`, `f${i}`), Buffer.alloc(SIZE, 0xee));
    const m1 = path.join(dir, 'm1');
    const re = await buildManifest(base, m1, { previous: m0 });
    expect(re).toMatchObject({ hashedBytes: 4 * SIZE, reusedDigests: FILES - 4 });
    const m2 = path.join(dir, 'm2');
    await buildManifest(base, m2);
    expect([...readManifest(m1)]).toEqual([...readManifest(m2)]);
  });

  it('rehashes a file whose mtime was set back after an edit (ctime moved)', async () => {
    const m0 = path.join(dir, 'n0');
    await buildManifest(base, m0);
    const f = path.join(base, 'd5', 'f5');
    const st = fs.statSync(f);
    fs.writeFileSync(f, Buffer.alloc(SIZE, 0x42));
    fs.utimesSync(f, st.atime, st.mtime);
    const m1 = path.join(dir, 'n1');
    const re = await buildManifest(base, m1, { previous: m0 });
    expect(re).toMatchObject({ hashedBytes: SIZE, reusedDigests: FILES - 1 });
    expect([...readManifest(m1)].find((e) => e.path === 'd5/f5')!.digest).toBe(crypto.createHash('sha256').update(Buffer.alloc(SIZE, 0x42)).digest('hex'));
  });

  it('reuses the digest of an unchanged symlink and reads a replaced one again', async () => {
    const links = path.join(dir, 'links');
    fs.mkdirSync(links);
    fs.symlinkSync('old-target', path.join(links, 'kept'));
    fs.symlinkSync('old-target', path.join(links, 'replaced'));
    const m0 = path.join(dir, 's0');
    await buildManifest(links, m0);
    fs.rmSync(path.join(links, 'replaced'));
    fs.symlinkSync('new-target', path.join(links, 'replaced'));
    const m1 = path.join(dir, 's1');
    const re = await buildManifest(links, m1, { previous: m0 });
    expect(re).toMatchObject({ hashedBytes: 0, reusedDigests: 1 });
    const digests = new Map([...readManifest(m1)].map((e) => [e.path, e.digest]));
    const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
    expect(Object.fromEntries(digests)).toEqual({ kept: sha('old-target'), replaced: sha('new-target') });
  });

  it('reuses nothing from the manifest of another tree', async () => {
    const copy = path.join(dir, 'copy');
    fs.cpSync(base, copy, { recursive: true, preserveTimestamps: true });
    const m0 = path.join(dir, 'c0');
    await buildManifest(base, m0);
    const re = await buildManifest(copy, path.join(dir, 'c1'), { previous: m0 });
    expect(re).toMatchObject({ hashedBytes: FILES * SIZE, reusedDigests: 0 });
  });

  it('reports progress with the previous entry count as total', async () => {
    const m0 = path.join(dir, 'p0');
    await buildManifest(base, m0);
    const calls: [number, number | undefined][] = [];
    await buildManifest(base, path.join(dir, 'p1'), { previous: m0, onProgress: (d, t) => calls.push([d, t]) });
    expect(calls.at(-1)).toEqual([FILES + 20, FILES + 20]);
  });
});
