import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestEntry as BaseEntry } from '../../src/manifest/format.js';
import crypto from 'node:crypto';
import { comparePathAt, encodeEntry, parseManifest, parseRecords } from '../../src/manifest/format.js';
import { encodeManifest } from '../../src/manifest/encode.js';
import { manifestCount, manifestDigest, manifestPath, readManifest, readRecords } from '../../src/manifest/store.js';
import { layoutFor } from '../../src/paths/layout.js';
import { EVERY_BYTE, INVALID_UTF8, NEWLINE, rel, scratch } from '../tree/fixtures.js';
import { isEntryPath } from '../../src/model/entry.js';
import { components } from '../../src/tree/fsat.js';
import { comparePaths } from '../../src/model/order.js';
import { v1Bytes, v1Header } from './v1.js';

const D = 'ab'.repeat(32);
const ENTRIES: BaseEntry[] = [
  { path: rel(EVERY_BYTE), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 4096, digest: '' },
  { path: rel(EVERY_BYTE, EVERY_BYTE), type: 'file', mode: 0o4755, uid: 4294967294, gid: 7, size: 2 ** 40, digest: D },
  { path: rel(INVALID_UTF8), type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 11, digest: D },
  { path: rel(NEWLINE), type: 'chr', mode: 0o600, uid: 0, gid: 0, size: 0, digest: D },
  { path: rel('b'), type: 'blk', mode: 0o660, uid: 0, gid: 6, size: 0, digest: D },
  { path: rel('f'), type: 'fifo', mode: 0o644, uid: 1, gid: 1, size: 0, digest: '' },
  { path: rel('s'), type: 'socket', mode: 0o755, uid: 1, gid: 1, size: 0, digest: '' },
];
const bytesOf = v1Bytes;
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest();
/** The bytes with their trailer's digest made right again: damage a forger would hide. */
const resealed = (b: Buffer) => {
  const out = Buffer.from(b);
  sha256(out.subarray(0, out.length - 32)).copy(out, out.length - 32);
  return out;
};

describe('manifest format', () => {
  const inWalkOrder = [...ENTRIES].sort((a, b) => comparePaths(a.path, b.path));
  it.each([
    ['version 2', encodeManifest(inWalkOrder)],
    ['version 1', v1Bytes(inWalkOrder)],
  ])('round-trips every type, any byte in a name, large sizes and ids (%s)', (_v, bytes) => {
    expect(parseManifest(bytes)).toEqual(inWalkOrder);
  });

  it('keeps the inode stamp', () => {
    const stamp = { ino: 2n ** 63n + 5n, mtimeNs: -1_000_000_001n, ctimeNs: 1_700_000_000_123_456_789n };
    const [r] = parseRecords(encodeManifest([{ entry: ENTRIES[0]!, stamp }]));
    expect(r!.stamp).toEqual(stamp);
    const [v1] = parseRecords(Buffer.concat([v1Header(1), encodeEntry(ENTRIES[0]!, stamp)]));
    expect(v1!.stamp).toEqual(stamp);
  });

  it('version 2: the records, a table of their offsets, the count, the table offset and the sha256 of all before it', () => {
    const recs = ENTRIES.slice(0, 3).map((e) => encodeEntry(e));
    const bytes = encodeManifest(ENTRIES.slice(0, 3));
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from('SOVM\x02\0\0\0', 'latin1'));
    expect(bytes.subarray(8, 8 + recs.reduce((n, r) => n + r.length, 0))).toEqual(Buffer.concat(recs));
    const tableAt = bytes.length - 48 - 12;
    expect([0, 1, 2].map((i) => bytes.readUInt32LE(tableAt + 4 * i))).toEqual([8, 8 + recs[0]!.length, 8 + recs[0]!.length + recs[1]!.length]);
    expect(bytes.readBigUInt64LE(bytes.length - 48)).toBe(3n);
    expect(bytes.readBigUInt64LE(bytes.length - 40)).toBe(BigInt(tableAt));
    expect(bytes.subarray(bytes.length - 32)).toEqual(sha256(bytes.subarray(0, bytes.length - 32)));
  });

  const v2 = encodeManifest(ENTRIES.slice(0, 2));
  const tableAt = v2.length - 48 - 8;
  const withTable = (entry: number, offset: number) => {
    const out = Buffer.from(v2);
    out.writeUInt32LE(offset, tableAt + 4 * entry);
    return resealed(out);
  };
  const flipped = Buffer.from(v2);
  flipped[20]! ^= 1;
  it.each([
    ['a future version', Buffer.from('SOVM\x03\0\0\0', 'latin1'), 'm: manifest version 3, expected 1 or 2'],
    ['a file too short for its trailer', v2.subarray(0, 40), 'm: 40 bytes: too short for a version 2 manifest (a truncated file?)'],
    ['a truncated file', v2.subarray(0, v2.length - 3), `m: trailer: a table of `],
    ['a record byte changed', flipped, `m: digest: the trailer records ${v2.toString('hex', v2.length - 32)}, the bytes before it hash to ${sha256(flipped.subarray(0, v2.length - 32)).toString('hex')} (a damaged manifest)`],
    ['a count the table does not fill', resealed(Buffer.from(v2).fill(3, v2.length - 48, v2.length - 47)), `m: trailer: a table of 3 entries at byte ${tableAt} does not end where the trailer starts, at byte ${v2.length - 48} (a truncated or damaged manifest)`],
    ['a table offset past the records', withTable(1, 0xffffff00), `m: table: entry 1: offset ${0xffffff00}: expected after 8 and before the table at byte ${tableAt}`],
    ['a table out of order', withTable(1, 8), `m: table: entry 1: offset 8: expected after 8 and before the table at byte ${tableAt}`],
    ['reserved header bytes set', resealed(Buffer.from(v2).fill(1, 6, 7)), 'm: header: reserved bytes: expected zeros'],
  ])('version 2: rejects %s', (_n, bytes, message) => {
    expect(() => parseManifest(bytes, 'm')).toThrow(message);
  });

  it("writes entries in the walk's order only ('/' before any byte)", () => {
    const [a, b] = [{ ...ENTRIES[5]!, path: rel('a/b') }, { ...ENTRIES[5]!, path: rel('a-b') }];
    expect(parseManifest(encodeManifest([a, b]))).toEqual([a, b]);
    expect(() => encodeManifest([b, a])).toThrow('manifest entries out of order: "a/b" after "a-b"');
    expect(() => encodeManifest([a, a])).toThrow('manifest entries out of order: "a/b" after "a/b"');
  });

  const good = bytesOf(ENTRIES.slice(0, 2));
  const rec0 = encodeEntry(ENTRIES[0]!);
  const patch = (at: number, byte: number) => {
    const b = Buffer.from(good);
    b[at] = byte;
    return b;
  };
  it.each([
    ['empty file', Buffer.alloc(0), 'm: not a state-overlay manifest'],
    ['wrong magic', Buffer.from('SOVX\x01\0\0\0\0\0\0\0\0\0\0\0', 'latin1'), 'm: not a state-overlay manifest'],
    ['future version', patch(4, 3), 'm: manifest version 3, expected 1 or 2'],
    ['truncated record', good.subarray(0, good.length - 3), `m: truncated record at byte ${16 + rec0.length}`],
    ['unknown type', patch(20, 9), 'm: record at byte 16: unknown type 9'],
    ['bad length', patch(19, 0xff), `m: record at byte 16: length ${0xff000000 + rec0.length - 4} out of range`],
    ['wrong count', Buffer.concat([v1Header(3), good.subarray(16)]), 'm: header counts 3 entries, found 2'],
    ['path with ..', bytesOf([{ ...ENTRIES[5]!, path: rel('a/../b') }]), 'm: record at byte 16: invalid path "a/../b"'],
    ['path with an empty component', bytesOf([{ ...ENTRIES[5]!, path: rel('a//b') }]), 'm: record at byte 16: invalid path "a//b"'],
    ['path ending in .', bytesOf([{ ...ENTRIES[5]!, path: rel('a/.') }]), 'm: record at byte 16: invalid path "a/."'],
    ['reserved header bytes set', patch(6, 1), 'm: header: reserved bytes: expected zeros'],
    ['an entry count past 2^53', Buffer.concat([v1Header(2 ** 53 + 2), good.subarray(16)]), `m: header: entry count ${2 ** 53 + 2}: expected at most ${Number.MAX_SAFE_INTEGER}`],
    ['a mode with file type bits', patch(22, 0x81), 'm: record at byte 16: mode: expected permission bits (at most 0o7777), got 0o100755'],
    ['a size past 2^53', patch(16 + 4 + 13 + 7, 0x01), `m: record at byte 16: size: expected at most ${Number.MAX_SAFE_INTEGER}, got ${2n ** 56n + 4096n}`],
    ['a directory with a digest', bytesOf([ENTRIES[1]!]).fill(2, 20, 21), 'm: record at byte 16: digest length 32: expected 0 for a dir'],
    ['a file without a digest', bytesOf([ENTRIES[5]!]).fill(1, 20, 21), 'm: record at byte 16: digest length 0: expected 32 for a file'],
  ])('version 1: rejects %s', (_n, bytes, message) => {
    expect(() => parseManifest(bytes, 'm')).toThrow(message);
  });

  it.each([['abc'], ['a'.repeat(63) + 'g'], ['ab'.repeat(33)]])('refuses to encode the digest %s', (digest) => {
    expect(() => encodeEntry({ ...ENTRIES[0]!, digest })).toThrow(`digest of ${ENTRIES[0]!.path} is not a sha256: ${digest}`);
  });

  it('accepts names like ".x" and "..."', () => {
    const entries = ['.x', 'a/...', 'a/..b'].map((p) => ({ ...ENTRIES[5]!, path: rel(p) }));
    expect(parseManifest(bytesOf(entries))).toEqual(entries);
  });
});

describe('comparePathAt', () => {
  it("orders a record's path against a path as comparePaths orders the two, from the record's bytes", () => {
    const paths = ['a', 'a/b', 'a.b', 'a-b', 'ab', 'a/b/c', 'b', EVERY_BYTE.toString('latin1'), `${EVERY_BYTE.toString('latin1')}/x`, INVALID_UTF8.toString('latin1'), NEWLINE.toString('latin1'), '\x01', '\xff'].map((p) => p as ReturnType<typeof rel>);
    for (const type of ['file', 'dir'] as const) {
      for (const a of paths) {
        const rec = encodeEntry({ path: a, type, mode: 0o644, uid: 0, gid: 0, size: 1, digest: type === 'file' ? 'ab'.repeat(32) : '' });
        // Inside a bigger buffer, as a range read holds it.
        const buf = Buffer.concat([Buffer.alloc(7), rec, Buffer.alloc(5, 0x61)]);
        for (const b of paths) expect(Math.sign(comparePathAt(buf, 7, rec.length, b)!), `${type} ${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(Math.sign(comparePaths(a, b)));
      }
    }
  });

  it('declines a record that has no path where its digest length says', () => {
    const rec = encodeEntry({ path: rel('x'), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, digest: '' });
    rec[4 + 45] = 7;
    expect(comparePathAt(rec, 0, rec.length, rel('x'))).toBeUndefined();
    rec[4 + 45] = 32;
    expect(comparePathAt(rec, 0, rec.length, rel('x'))).toBeUndefined();
  });
});

describe('manifest store', () => {
  let dir: string;
  // In the walk's order, as a manifest lists them.
  const many: BaseEntry[] = Array.from({ length: 30000 }, (_, i) => ({
    path: rel(`d${Math.floor(i / 100)}/${'n'.repeat(i % 200)}${i}`),
    type: 'file' as const,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: i,
    digest: D,
  })).sort((a, b) => comparePaths(a.path, b.path));
  const files = { 'version 1': '', 'version 2': '' };
  beforeAll(() => {
    dir = scratch();
    files['version 1'] = path.join(dir, 'v1.manifest');
    files['version 2'] = path.join(dir, 'v2.manifest');
    fs.writeFileSync(files['version 1'], bytesOf(many));
    fs.writeFileSync(files['version 2'], encodeManifest(many));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const VERSIONS = [['version 1', 16], ['version 2', 8]] as const;

  it.each(VERSIONS)('streams a manifest larger than its read buffer, records spanning chunk ends (%s)', (v) => {
    expect(fs.statSync(files[v]).size).toBeGreaterThan(3 << 20);
    expect([...readManifest(files[v])]).toEqual(many);
    expect(manifestCount(files[v])).toBe(many.length);
  });

  it.each(VERSIONS)('reports a truncated file with its name (%s)', (v) => {
    const cut = path.join(dir, 'cut.manifest');
    fs.writeFileSync(cut, fs.readFileSync(files[v]).subarray(0, (2 << 20) + 7));
    const message = new RegExp(v === 'version 1' ? `^${cut}: truncated record at byte \\d+$` : `^${cut}: trailer: `);
    expect(() => [...readRecords(cut)]).toThrow(message);
    expect(() => [...readRecords(path.join(dir, 'none'))]).toThrow(`open manifest ${dir}/none: ENOENT`);
  });

  it.each(VERSIONS)('names the byte of a bad record in the file, past the first read buffer too (%s)', (v, head) => {
    const bytes = fs.readFileSync(files[v]);
    const at = head + many.slice(0, 20000).reduce((n, e) => n + encodeEntry(e).length, 0);
    bytes[at + 4] = 9;
    const bad = path.join(dir, 'bad.manifest');
    fs.writeFileSync(bad, bytes);
    expect(at).toBeGreaterThan(1 << 20);
    expect(() => [...readRecords(bad)]).toThrow(`${bad}: record at byte ${at}: unknown type 9`);
  });

  it.each(VERSIONS)('reads only the first records of a sample, past its first read, each decoded and checked (%s)', (v, head) => {
    // 600 records of up to 250 bytes: more than the sample's first read of 64 KiB.
    expect([...readManifest(files[v], { first: 600 })]).toEqual(many.slice(0, 600));
    // A manifest shorter than the sample: all of it.
    const short = path.join(dir, 'short.manifest');
    fs.writeFileSync(short, v === 'version 1' ? bytesOf(many.slice(0, 10)) : encodeManifest(many.slice(0, 10)));
    expect([...readManifest(short, { first: 600 })]).toEqual(many.slice(0, 10));
    // The sample neither needs nor checks what lies past it: a damaged digest, a record past the sample.
    const bytes = fs.readFileSync(files[v]);
    const past = head + many.slice(0, 700).reduce((n, e) => n + encodeEntry(e).length, 0);
    bytes[past + 4] = 9;
    bytes[bytes.length - 1]! ^= 1;
    const bad = path.join(dir, 'sample.manifest');
    fs.writeFileSync(bad, bytes);
    expect([...readManifest(bad, { first: 600 })]).toEqual(many.slice(0, 600));
    expect(() => [...readManifest(bad)]).toThrow(`${bad}: record at byte ${past}: unknown type 9`);
    // A record within it is damage as ever.
    const within = head + many.slice(0, 500).reduce((n, e) => n + encodeEntry(e).length, 0);
    bytes[within + 4] = 9;
    fs.writeFileSync(bad, bytes);
    expect(() => [...readManifest(bad, { first: 600 })]).toThrow(`${bad}: record at byte ${within}: unknown type 9`);
  });

  it('checks a version 2 stream: its table against the records, its digest at the end', () => {
    const bytes = fs.readFileSync(files['version 2']);
    const bad = path.join(dir, 'bad-table.manifest');
    const table = bytes.length - 48 - 4 * many.length;
    const moved = Buffer.from(bytes);
    moved.writeUInt32LE(moved.readUInt32LE(table + 4 * 29997) + 1, table + 4 * 29997);
    fs.writeFileSync(bad, moved);
    expect(() => [...readRecords(bad)]).toThrow(`${bad}: table: entry 29997: offset ${moved.readUInt32LE(table + 4 * 29997)}, but the record is at byte ${bytes.readUInt32LE(table + 4 * 29997)}`);
    // A byte of a content digest: every record is still well-formed.
    const changed = Buffer.from(bytes);
    changed[8 + 4 + 46 + 3]! ^= 1;
    fs.writeFileSync(bad, changed);
    expect(() => [...readRecords(bad)]).toThrow(`${bad}: digest: the trailer records ${bytes.toString('hex', bytes.length - 32)}, the bytes before it hash to `);
  });

  it('checks the digest of a generation: the bytes of a version 1 manifest, the trailer of a version 2 one', () => {
    const v1 = files['version 1'];
    const v2 = files['version 2'];
    const other = 'ab'.repeat(32);
    expect([...readRecords(v1, { sha256: manifestDigest(v1) })]).toHaveLength(many.length);
    expect([...readRecords(v2, { sha256: manifestDigest(v2) })]).toHaveLength(many.length);
    for (const f of [v1, v2]) expect(() => [...readRecords(f, { sha256: other })]).toThrow(`${f}: not the manifest of generation manifest:${other} (changed since the generation was read)`);
  });

  it('digests: a version 2 manifest by its trailer (the sha256 of the bytes before it), any other file by its bytes', () => {
    const v2 = fs.readFileSync(files['version 2']);
    expect(manifestDigest(files['version 2'])).toBe(sha256(v2.subarray(0, v2.length - 32)).toString('hex'));
    expect(manifestDigest(files['version 1'])).toBe(sha256(fs.readFileSync(files['version 1'])).toString('hex'));
    fs.writeFileSync(path.join(dir, 'small'), 'abc');
    expect(manifestDigest(path.join(dir, 'small'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it.each([
    ['tree:' + 'a'.repeat(64), `tree:${'a'.repeat(64)}.manifest`],
    ['command:v1.2/../x y', 'command:v1%2E2%2F%2E%2E%2Fx%20y.manifest'],
    ['ostree:é', 'ostree:%C3%A9.manifest'],
    ['command:' + 'z'.repeat(300), 'sha256:a9a5fbe93eb1a84e8aaaec8e6a4ab3ba4e5bd1a6b2e76b7f6e0c0fa2a0a1dc3b.manifest'],
  ])('names the manifest of %j safely', (gen, name) => {
    const layout = layoutFor('/r', 'opt', '/opt');
    const p = manifestPath(layout, gen);
    expect(path.dirname(p)).toBe('/r/var/lib/state-overlay/opt/manifests');
    if (name.startsWith('sha256:')) expect(path.basename(p)).toMatch(/^sha256:[0-9a-f]{64}\.manifest$/);
    else expect(path.basename(p)).toBe(name);
  });
});

describe('isEntryPath', () => {
  it('accepts exactly the paths whose every component names an entry', () => {
    const parts = ['', '.', '..', '...', 'a', '.a', 'a.', '\0', 'a\0b', '\xff', ' '];
    const cases = new Set<string>();
    for (const x of parts) for (const y of parts) for (const z of ['', ...parts]) cases.add(z === '' ? `${x}/${y}` : `${x}/${y}/${z}`);
    for (const x of parts) cases.add(x);
    const reference = (p: string) => p !== '' && p.split('/').every((c) => c !== '' && c !== '.' && c !== '..' && !c.includes('\0'));
    for (const p of [...cases].map((c) => rel(c))) {
      expect(isEntryPath(p), JSON.stringify(p)).toBe(reference(p));
      if (p === '') continue;
      if (reference(p)) expect(components(p).length).toBe(p.split('/').length);
      else expect(() => components(p), JSON.stringify(p)).toThrow('invalid relative path');
    }
  });
});
