// A manifest's records are made in C (native indexWalk): they must be, byte for byte, the records the
// walk in JavaScript made (src/tree/walk.ts, each entry encoded by encodeEntry with its lstat stamp), and
// a digest may come from the previous manifest only where its record is of the same inode.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/manifest/build.js';
import { encodeManifest } from '../../src/manifest/encode.js';
import { parseRecords, type ManifestRecord } from '../../src/manifest/format.js';
import { indexEnd, indexNext, indexWalk } from '../../src/native/syscalls.js';
import { statAttrs, type RelPath } from '../../src/model/entry.js';
import { digestOfSpecial } from '../../src/tree/digest.js';
import { fdPath } from '../../src/tree/fsat.js';
import { walk } from '../../src/tree/walk.js';
import { buildHostile, removeTree, scratch } from '../tree/fixtures.js';

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const openFds = () => fs.readdirSync('/proc/self/fd').length;

/** The records of the base as the walk in JavaScript made them: lstat, content read by path, stamps. */
function reference(base: string): ManifestRecord[] {
  const out: ManifestRecord[] = [];
  for (const w of walk(base, { bigint: true })) {
    const st = w.st;
    const at = fdPath(w.dirFd, w.name);
    const digest = w.type === 'file' ? sha(fs.readFileSync(at)) : w.type === 'symlink' ? digestOfSpecial('symlink', st, fs.readlinkSync(at, { encoding: 'buffer' })) : digestOfSpecial(w.type, st);
    out.push({ entry: { path: w.path, type: w.type, ...statAttrs(st), digest }, stamp: { ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs } });
  }
  return out;
}

describe('manifest records made in C', () => {
  let dir: string;
  let base: string;
  beforeAll(async () => {
    dir = scratch('so-index-walk-');
    base = path.join(dir, 'base');
    fs.mkdirSync(base);
    // Every entry type, names of every byte, hard links, a chain 2100 deep; times before 1970, a symlink
    // target of 4000 bytes, an empty file.
    await buildHostile(base);
    fs.writeFileSync(path.join(base, 'before-1970'), 'b');
    fs.utimesSync(path.join(base, 'before-1970'), new Date('1960-01-01T00:00:00.5Z'), new Date('1969-12-31T23:59:59.25Z'));
    fs.symlinkSync('t'.repeat(4000), path.join(base, 'long-target'));
    fs.writeFileSync(path.join(base, 'empty'), '');
  });
  afterAll(async () => {
    await removeTree(dir);
  });

  it('are byte for byte those the walk in JavaScript encoded, and close every file they open', async () => {
    const before = openFds();
    const out = path.join(dir, 'm/hostile.manifest');
    const r = await buildManifest(base, out, { threads: 2 });
    expect(openFds()).toBe(before);
    const want = reference(base);
    expect(want.length).toBeGreaterThan(2100);
    expect(fs.readFileSync(out).equals(encodeManifest(want))).toBe(true);
    expect(r).toMatchObject({ entries: want.length, reusedDigests: 0 });
  });

  it('take a digest from the previous manifest only where path, type, size, inode, mtime and ctime are the same', async () => {
    const want = reference(base);
    // A previous manifest with a made-up digest for every file and symlink: what is reused shows.
    const fake = (p: RelPath) => sha(Buffer.from(`fake ${p}`, 'latin1'));
    const changed = new Set(['plain', 'hard1', 'loop1'].map((p) => p as RelPath));
    const previous = want.map((rec): ManifestRecord => {
      if (rec.entry.type !== 'file' && rec.entry.type !== 'symlink' && rec.entry.type !== 'chr') return rec;
      const entry = { ...rec.entry, digest: fake(rec.entry.path) };
      // One field each off: the size, the ctime, the inode.
      if (rec.entry.path === 'plain') return { entry: { ...entry, size: entry.size + 1 }, stamp: rec.stamp };
      if (rec.entry.path === 'hard1') return { entry, stamp: { ...rec.stamp, ctimeNs: rec.stamp.ctimeNs + 1n } };
      if (rec.entry.path === 'loop1') return { entry, stamp: { ...rec.stamp, ino: rec.stamp.ino + 1n } };
      return { entry, stamp: rec.stamp };
    });
    // And an entry the base no longer has, and one the previous manifest lacks (its records skipped and missed).
    const first = '\x01\x01gone' as RelPath;
    expect(first < want[0]!.entry.path).toBe(true);
    const gone = { entry: { path: first, type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 1, digest: fake(first) }, stamp: want[0]!.stamp };
    const prevFile = path.join(dir, 'prev.manifest');
    fs.writeFileSync(prevFile, encodeManifest([gone, ...previous.filter((p) => p.entry.path !== 'sub/x')]));
    const out = path.join(dir, 'm/again.manifest');
    const r = await buildManifest(base, out, { previous: prevFile });
    const got = parseRecords(fs.readFileSync(out));
    expect(got.map((g) => g.entry.path)).toEqual(want.map((w) => w.entry.path));
    const reusable = (p: ManifestRecord) => (p.entry.type === 'file' || p.entry.type === 'symlink') && !changed.has(p.entry.path) && p.entry.path !== 'sub/x';
    for (const [i, g] of got.entries()) {
      const w = want[i]!;
      expect(g, w.entry.path).toEqual(reusable(w) ? { entry: { ...w.entry, digest: fake(w.entry.path) }, stamp: w.stamp } : w);
    }
    expect(r.reusedDigests).toBe(want.filter(reusable).length);
    const files = want.filter((w) => w.entry.type === 'file' && !reusable(w));
    expect(r.hashedBytes).toBe(files.reduce((n, w) => n + w.entry.size, 0));
  });

  it('refuse a previous manifest whose bytes are not those its digest says, leaving nothing behind', async () => {
    const prevFile = path.join(dir, 'damaged.manifest');
    await buildManifest(base, prevFile);
    const bytes = fs.readFileSync(prevFile);
    // A byte of a record's digest: the records still parse, only the digest check can see it.
    const at = bytes.indexOf(Buffer.from('plain', 'latin1')) - 20;
    bytes[at] = bytes[at]! ^ 0xff;
    fs.writeFileSync(prevFile, bytes);
    const out = path.join(dir, 'd/after-damaged.manifest');
    const before = openFds();
    await expect(buildManifest(base, out, { previous: prevFile })).rejects.toThrow(/damaged\.manifest: digest: the trailer records [0-9a-f]{64}, the bytes before it hash to [0-9a-f]{64} \(a damaged manifest\)/);
    expect(fs.readdirSync(path.dirname(out))).toEqual([]);
    expect(openFds()).toBe(before);
  });

  it('open at most maxOpen files a chunk, and close them when the walk fails part way', () => {
    const flat = path.join(dir, 'flat');
    fs.mkdirSync(flat);
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(flat, `f${i}`), `${i}`);
    const before = openFds();
    const w = indexWalk(flat, null, undefined, 3);
    const perChunk: number[] = [];
    try {
      for (let c; (c = indexNext(w, () => false)) !== null; ) {
        perChunk.push(c.holes.length / 12);
        for (let h = 0; h < c.holes.length; h += 12) fs.closeSync(c.records.readInt32LE(c.holes.readUInt32LE(h) + 50));
      }
    } finally {
      indexEnd(w);
    }
    expect(perChunk).toEqual([3, 3, 3, 1]);
    expect(openFds()).toBe(before);
    // skip fails at the fifth entry, with four files of the chunk open.
    const failing = indexWalk(flat, null, undefined, 100);
    let asked = 0;
    try {
      expect(() => indexNext(failing, () => {
        if (++asked === 5) throw new Error('skip failed');
        return false;
      })).toThrow('skip failed');
      expect(() => indexNext(failing, () => false)).toThrow('the walk failed or ended');
    } finally {
      indexEnd(failing);
    }
    expect(openFds()).toBe(before);
  });

  it('leave the stamp unknown (never reused) for a time past what 64-bit nanoseconds hold', async () => {
    const far = path.join(dir, 'far');
    fs.mkdirSync(far);
    fs.writeFileSync(path.join(far, 'f'), 'far\n');
    // Year 2300: tmpfs and ext4 keep it; as nanoseconds it is past 2^63.
    execFileSync('touch', ['-d', '2300-01-01T00:00:00Z', path.join(far, 'f')]);
    const st = fs.lstatSync(path.join(far, 'f'), { bigint: true });
    expect(st.mtimeNs > (1n << 63n)).toBe(true);
    const out = path.join(dir, 'm/far.manifest');
    await buildManifest(far, out);
    const again = await buildManifest(far, path.join(dir, 'm/far2.manifest'), { previous: out });
    const [rec] = parseRecords(fs.readFileSync(out));
    expect(rec).toEqual({ entry: { path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 4, digest: sha(Buffer.from('far\n')) }, stamp: { ino: 0n, mtimeNs: 0n, ctimeNs: 0n } });
    expect(again).toMatchObject({ reusedDigests: 0, hashedBytes: 4 });
  });
});
