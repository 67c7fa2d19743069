// Lookups by path in a manifest file: the same answers as the whole manifest in memory, in files larger
// than the blocks kept, from version 1 manifests too; a damaged or forged table refused, naming the file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeEntry, type ManifestEntry } from '../../src/manifest/format.js';
import { encodeManifest } from '../../src/manifest/encode.js';
import { checkedRange, openManifestView } from '../../src/manifest/lookup.js';
import { manifestDigest, openManifest, viewOf } from '../../src/manifest/store.js';
import { TREE_ROOT, type RelPath } from '../../src/model/entry.js';
import { comparePaths } from '../../src/model/order.js';
import { INVALID_UTF8, rel, removeTree, scratch } from '../tree/fixtures.js';
import { v1Bytes } from './v1.js';

const dir = scratch('so-lookup-');
afterAll(async () => removeTree(dir));

const D = 'ab'.repeat(32);
const file = (p: string, size = 1): ManifestEntry => ({ path: rel(p), type: 'file', mode: 0o644, uid: 0, gid: 0, size, digest: D });
const dirEntry = (p: string): ManifestEntry => ({ path: rel(p), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, digest: '' });
const walkOrder = (es: ManifestEntry[]) => es.sort((a, b) => comparePaths(a.path, b.path));

/** Names whose bytes sort around '/': "a-b" and "a.d" come after the whole of "a/" in the walk's order. */
function tree(): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const top of ['a', 'a-b', 'a.d', 'a0', 'b', 'etc', INVALID_UTF8.toString('latin1')]) {
    out.push(dirEntry(top));
    for (const name of ['x', 'x-1', 'x.conf', 'y']) {
      out.push(dirEntry(`${top}/${name}`));
      for (let i = 0; i < 40; i++) out.push(file(`${top}/${name}/${'f'.repeat(i % 7)}${i}`, i));
    }
  }
  return walkOrder(out);
}

const write = (name: string, bytes: Buffer) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
};
const sorted = (es: Iterable<{ path: RelPath }>) => [...es].map((e) => e.path).sort();

/** A version 2 manifest written by hand, in any order: what a forger or a broken writer would make. */
function forged(entries: ManifestEntry[], table?: (offsets: number[]) => number[]): Buffer {
  const records = entries.map((e) => encodeEntry(e));
  let at = 8;
  const offsets = records.map((r) => ((at += r.length), at - r.length));
  const listed = table ? table(offsets) : offsets;
  const t = Buffer.alloc(4 * listed.length);
  listed.forEach((o, i) => t.writeUInt32LE(o, 4 * i));
  const trailer = Buffer.alloc(16);
  trailer.writeBigUInt64LE(BigInt(listed.length), 0);
  trailer.writeBigUInt64LE(BigInt(at), 8);
  const body = Buffer.concat([Buffer.from('SOVM\x02\0\0\0', 'latin1'), ...records, t, trailer]);
  return Buffer.concat([body, crypto.createHash('sha256').update(body).digest()]);
}

describe('lookups by path', () => {
  const entries = tree();
  const reference = viewOf(entries);
  const queries = [
    ...entries.map((e) => e.path),
    ...['', 'a/x/zz', 'a/', '0', 'zzz', 'a-b/x-0', 'a/x-1/', 'etc/y/f', '\x01'].map((p) => rel(p)),
  ];

  it('the version 2 format is what the encoder writes', () => {
    expect(encodeManifest(entries)).toEqual(forged(entries));
  });

  it.each([
    ['version 2', () => encodeManifest(entries)],
    ['version 1', () => v1Bytes(entries)],
  ])('get and under answer as the whole manifest in memory does (%s)', (v, bytes) => {
    const f = write(`tree-${v}`, bytes());
    const view = openManifestView(f, { sha256: manifestDigest(f) });
    try {
      for (const p of queries) {
        expect(view.get(p), JSON.stringify(p)).toEqual(reference.get(p));
        expect(sorted(view.under(p)), JSON.stringify(p)).toEqual(sorted(reference.under(p)));
      }
      expect(sorted(view.under(TREE_ROOT))).toEqual(sorted(entries));
    } finally {
      view.close();
    }
  });

  it('reads a manifest of many more entries than the ranges it keeps hold, in any order of lookups', () => {
    const many = walkOrder(Array.from({ length: 40000 }, (_, i) => file(`d${i % 97}/${'n'.repeat(i % 150)}${i}`, i)));
    const f = write('many', encodeManifest(many));
    expect(fs.statSync(f).size).toBeGreaterThan(4 << 20);
    const view = openManifestView(f);
    try {
      for (const i of [39999, 0, 20000, 1, 39998, 12345]) expect(view.get(many[i]!.path)).toEqual(many[i]);
      for (const e of many) expect(view.get(e.path)).toEqual(e);
      expect([...view.under(rel('d5'))]).toEqual(many.filter((e) => e.path.startsWith('d5/')));
    } finally {
      view.close();
    }
  });
});

describe('a damaged or forged manifest is refused, naming the file', () => {
  const entries = walkOrder([dirEntry('a'), file('a/b'), file('a/c'), file('b'), file('c')]);
  const good = encodeManifest(entries);

  it('a changed byte: the digest, checked beside the lookups', async () => {
    const bytes = Buffer.from(good);
    bytes[8 + 4 + 10]! ^= 1;
    const f = write('changed', bytes);
    const view = openManifestView(f);
    view.close();
    await expect(view.checked).rejects.toThrow(`${f}: digest: the trailer records ${good.toString('hex', good.length - 32)}, the bytes before it hash to `);
    await expect(openManifestView(write('good', good)).checked).resolves.toBeUndefined();
  });

  it('a check that cannot start (no fd for its copy) names the file', () => {
    const f = write('unstarted', good);
    const m = openManifest(f);
    m.close();
    expect(() => checkedRange(m, 10, f)).toThrow(`read manifest ${f}: EBADF`);
  });

  it('another generation than the one read before', () => {
    const f = write('other', good);
    const other = 'cd'.repeat(32);
    expect(() => openManifestView(f, { sha256: other })).toThrow(`${f}: not the manifest of generation manifest:${other} (changed since the generation was read)`);
    const v1 = write('other-v1', v1Bytes(entries));
    expect(() => openManifestView(v1, { sha256: other })).toThrow(`${v1}: not the manifest of generation manifest:${other} (changed since the generation was read)`);
  });

  it('a table offset outside the records, or not increasing', () => {
    const past = write('past', forged(entries, (o) => [...o.slice(0, 4), 1 << 30]));
    expect(() => openManifestView(past)).toThrow(`${past}: table: entry 4: offset ${1 << 30}: expected after ${entries.slice(0, 4).reduce((n, e) => n + encodeEntry(e).length, 8) - encodeEntry(entries[3]!).length}`);
    const back = write('back', forged(entries, (o) => [o[0]!, o[2]!, o[1]!, o[3]!, o[4]!]));
    expect(() => openManifestView(back)).toThrow(`${back}: table: entry 2: offset `);
  });

  it('a table entry inside a record: in the check for the first of a range, where it is read for the others', async () => {
    const misplaced = (f: string) => new RegExp(`^${f}: table: entry \\d: the record at byte \\d+ does not end at byte \\d+, where the next one starts$`);
    const first = write('inside-first', forged(entries, (o) => [o[0]!, o[1]! + 3, ...o.slice(2)]));
    const firstView = openManifestView(first);
    firstView.close();
    await expect(firstView.checked).rejects.toThrow(misplaced(first));
    const other = write('inside', forged(entries, (o) => [...o.slice(0, 3), o[3]! + 3, o[4]!]));
    const view = openManifestView(other);
    try {
      expect(view.get(rel('a'))).toEqual(entries[0]);
      expect(() => view.get(rel('c'))).toThrow(misplaced(other));
    } finally {
      view.close();
    }
  });

  it('a path listed twice, where it is read', () => {
    const f = write('twice', forged(walkOrder([dirEntry('a'), file('b'), file('b', 2), file('c')])));
    const view = openManifestView(f);
    try {
      expect(() => view.get(rel('b'))).toThrow(`${f}: "b" is listed twice`);
      expect(() => [...view.under(TREE_ROOT)]).toThrow(`${f}: "b" is listed twice`);
      expect(view.get(rel('c'))).toEqual(file('c'));
    } finally {
      view.close();
    }
    const v1 = write('twice-v1', v1Bytes([dirEntry('a'), file('b'), file('b', 2)]));
    expect(() => openManifestView(v1)).toThrow(`${v1}: "b" is listed twice`);
  });

  it('entries out of order, where they are read', () => {
    const f = write('unsorted', forged([file('b'), file('a'), file('c')]));
    const view = openManifestView(f);
    try {
      expect(() => view.get(rel('a'))).toThrow(`${f}: table: entry 1 ("a") sorts before entry 0 ("b")`);
      expect(() => [...view.under(TREE_ROOT)]).toThrow(`${f}: table: entry 1 ("a") sorts before entry 0 ("b")`);
    } finally {
      view.close();
    }
  });

  it('a malformed record (its digest made right again), named by its byte in the file', () => {
    const bytes = forged([dirEntry('a'), file('b')]);
    const at = 8 + encodeEntry(dirEntry('a')).length;
    bytes[at + 4] = 9;
    crypto.createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest().copy(bytes, bytes.length - 32);
    const f = write('malformed', bytes);
    const view = openManifestView(f);
    try {
      expect(() => view.get(rel('b'))).toThrow(`${f}: record at byte ${at}: unknown type 9`);
    } finally {
      view.close();
    }
  });
});
