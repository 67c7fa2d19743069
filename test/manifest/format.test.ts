import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestEntry as BaseEntry } from '../../src/manifest/format.js';
import { encodeEntry, encodeHeader, parseManifest, parseRecords } from '../../src/manifest/format.js';
import { manifestDigest, manifestPath, manifestView, readManifest, readRecords } from '../../src/manifest/store.js';
import { layoutFor } from '../../src/paths/layout.js';
import { EVERY_BYTE, INVALID_UTF8, NEWLINE, rel, scratch } from '../tree/fixtures.js';
import { isEntryPath } from '../../src/model/entry.js';
import { components } from '../../src/tree/fsat.js';

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
const bytesOf = (entries: BaseEntry[]) => Buffer.concat([encodeHeader(entries.length), ...entries.map((e) => encodeEntry(e))]);

describe('manifest format', () => {
  it('round-trips every type, any byte in a name, large sizes and ids', () => {
    expect(parseManifest(bytesOf(ENTRIES))).toEqual(ENTRIES);
  });

  it('keeps the inode stamp', () => {
    const stamp = { ino: 2n ** 63n + 5n, mtimeNs: -1_000_000_001n, ctimeNs: 1_700_000_000_123_456_789n };
    const [r] = parseRecords(Buffer.concat([encodeHeader(1), encodeEntry(ENTRIES[0]!, stamp)]));
    expect(r!.stamp).toEqual(stamp);
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
    ['future version', patch(4, 2), 'm: manifest version 2, expected 1'],
    ['truncated record', good.subarray(0, good.length - 3), `m: truncated record at byte ${16 + rec0.length}`],
    ['unknown type', patch(20, 9), 'm: record at byte 16: unknown type 9'],
    ['bad length', patch(19, 0xff), `m: record at byte 16: length ${0xff000000 + rec0.length - 4} out of range`],
    ['wrong count', Buffer.concat([encodeHeader(3), good.subarray(16)]), 'm: header counts 3 entries, found 2'],
    ['path with ..', bytesOf([{ ...ENTRIES[5]!, path: rel('a/../b') }]), 'm: record at byte 16: invalid path "a/../b"'],
    ['path with an empty component', bytesOf([{ ...ENTRIES[5]!, path: rel('a//b') }]), 'm: record at byte 16: invalid path "a//b"'],
    ['path ending in .', bytesOf([{ ...ENTRIES[5]!, path: rel('a/.') }]), 'm: record at byte 16: invalid path "a/."'],
    ['reserved header bytes set', patch(6, 1), 'm: header: reserved bytes: expected zeros'],
    ['an entry count past 2^53', Buffer.concat([encodeHeader(2 ** 53 + 2), good.subarray(16)]), `m: header: entry count ${2 ** 53 + 2}: expected at most ${Number.MAX_SAFE_INTEGER}`],
    ['a mode with file type bits', patch(22, 0x81), 'm: record at byte 16: mode: expected permission bits (at most 0o7777), got 0o100755'],
    ['a size past 2^53', patch(16 + 4 + 13 + 7, 0x01), `m: record at byte 16: size: expected at most ${Number.MAX_SAFE_INTEGER}, got ${2n ** 56n + 4096n}`],
    ['a directory with a digest', bytesOf([ENTRIES[1]!]).fill(2, 20, 21), 'm: record at byte 16: digest length 32: expected 0 for a dir'],
    ['a file without a digest', bytesOf([ENTRIES[5]!]).fill(1, 20, 21), 'm: record at byte 16: digest length 0: expected 32 for a file'],
  ])('rejects %s', (_n, bytes, message) => {
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

describe('manifest store', () => {
  let dir: string;
  let file: string;
  const many: BaseEntry[] = Array.from({ length: 30000 }, (_, i) => ({
    path: rel(`d${Math.floor(i / 100)}/${'n'.repeat(i % 200)}${i}`),
    type: 'file' as const,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: i,
    digest: D,
  }));
  beforeAll(() => {
    dir = scratch();
    file = path.join(dir, 'big.manifest');
    fs.writeFileSync(file, bytesOf(many));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('streams a manifest larger than its read buffer, records spanning chunk ends', () => {
    expect(fs.statSync(file).size).toBeGreaterThan(3 << 20);
    expect([...readManifest(file)]).toEqual(many);
  });

  it('reports a truncated file with its name', () => {
    const cut = path.join(dir, 'cut.manifest');
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, (2 << 20) + 7));
    expect(() => [...readRecords(cut)]).toThrow(new RegExp(`^${cut}: truncated record at byte \\d+$`));
    expect(() => [...readRecords(path.join(dir, 'none'))]).toThrow(`open manifest ${dir}/none: ENOENT`);
  });

  it('names the byte of a bad record in the file, past the first read buffer too', () => {
    const bytes = fs.readFileSync(file);
    const at = 16 + many.slice(0, 20000).reduce((n, e) => n + encodeEntry(e).length, 0);
    bytes[at + 4] = 9;
    const bad = path.join(dir, 'bad.manifest');
    fs.writeFileSync(bad, bytes);
    expect(at).toBeGreaterThan(1 << 20);
    expect(() => [...readRecords(bad)]).toThrow(`${bad}: record at byte ${at}: unknown type 9`);
    expect(() => [...readRecords(bad, { select: () => false })]).toThrow(`${bad}: record at byte ${at}: unknown type 9`);
  });

  it('loads only the selected entries into a view', () => {
    const view = manifestView(file, (p) => p.startsWith('d7/'));
    expect(view.get(many[700]!.path)).toEqual(many[700]);
    expect(view.get(many[800]!.path)).toBeUndefined();
    expect([...view.under(rel('d7'))].length).toBe(100);
    expect([...view.under(rel('d'))].length).toBe(0);
  });

  it('refuses a view of a manifest that lists a selected path twice, naming the file and the path', () => {
    const twice = path.join(dir, 'twice.manifest');
    fs.writeFileSync(twice, bytesOf([ENTRIES[4]!, ENTRIES[5]!, { ...ENTRIES[4]!, digest: 'cd'.repeat(32) }]));
    expect(() => manifestView(twice)).toThrow(`${twice}: "b" is listed twice`);
    expect(() => manifestView(twice, (p) => p === 'b')).toThrow(`${twice}: "b" is listed twice`);
    expect(manifestView(twice, (p) => p === 'f').get(rel('f'))).toEqual(ENTRIES[5]);
  });

  it('digests the file bytes', () => {
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
