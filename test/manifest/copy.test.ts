// The copy of a shipped manifest into the state dir: the same bytes, root's only, and the temp files that
// copies killed before their rename left are removed (a host whose base ships its manifest never builds
// one, so nothing else would).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { copyManifest } from '../../src/manifest/copy.js';
import { encodeManifest } from '../../src/manifest/encode.js';
import { rel, removeTree, scratch } from '../tree/fixtures.js';

const dir = scratch('so-copy-');
afterAll(async () => removeTree(dir));

const record = (i: number) => ({ path: rel(`dir/file-${String(i).padStart(6, '0')}`), type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: i, digest: i.toString(16).padStart(64, '0') });

/** A manifest of 40,000 records, over 3 MiB: written once, for the tests that copy it. */
const large = path.join(dir, 'large.manifest');
const largeBytes = (): Buffer => {
  if (!fs.existsSync(large)) fs.writeFileSync(large, encodeManifest(Array.from({ length: 40_000 }, (_, i) => record(i))));
  return fs.readFileSync(large);
};

const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ['-e', '0']);
  return new Promise((resolve) => child.once('exit', () => resolve(child.pid!)));
};

describe('copyManifest', () => {
  it('copies the bytes, mode 0600, and removes the temps of copies that were killed', async () => {
    const shipped = path.join(dir, 'shipped.manifest');
    const bytes = encodeManifest([{ path: rel('a'), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, digest: 'ab'.repeat(32) }]);
    fs.writeFileSync(shipped, bytes, { mode: 0o644 });
    const kept = path.join(dir, 'manifests');
    fs.mkdirSync(kept);
    const stale = path.join(kept, `manifest:00.manifest.tmp-${await deadPid()}`);
    fs.writeFileSync(stale, 'half a copy');
    // A copy still being made by a live process is its own.
    const live = path.join(kept, `manifest:11.manifest.tmp-${process.ppid}`);
    fs.writeFileSync(live, 'a copy under way');
    const to = path.join(kept, 'manifest:22.manifest');
    expect(copyManifest(shipped, to)).toEqual({ entries: 1, bytes: bytes.length });
    expect(fs.readFileSync(to)).toEqual(bytes);
    expect(fs.statSync(to).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(kept).sort()).toEqual([path.basename(live), path.basename(to)].sort());
  });

  it('refuses what is not a manifest, naming it, and leaves no temp', () => {
    const shipped = path.join(dir, 'junk.manifest');
    fs.writeFileSync(shipped, 'not a manifest at all, but long enough to have a trailer of forty-eight bytes');
    const kept = path.join(dir, 'refused');
    fs.mkdirSync(kept);
    expect(() => copyManifest(shipped, path.join(kept, 'manifest:33.manifest'))).toThrow(/manifest/);
    expect(fs.readdirSync(kept)).toEqual([]);
  });

  it('copies a manifest many times the copy buffer byte for byte, over a temp of its own pid left longer and world-readable', () => {
    const bytes = largeBytes();
    expect(bytes.length).toBeGreaterThan(3 << 20);
    const kept = path.join(dir, 'large');
    fs.mkdirSync(kept);
    const to = path.join(kept, 'manifest:44.manifest');
    // The temp name of this process's copy, left by an earlier process of the same pid.
    fs.writeFileSync(`${to}.tmp-${process.pid}`, Buffer.alloc(bytes.length + 12345, 0x78), { mode: 0o644 });
    expect(copyManifest(large, to)).toEqual({ entries: 40_000, bytes: bytes.length });
    expect(fs.readFileSync(to).equals(bytes)).toBe(true);
    expect(fs.statSync(to).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(kept)).toEqual([path.basename(to)]);
  });

  it('names the shipped manifest it cannot read, and creates nothing', () => {
    const kept = path.join(dir, 'unreadable');
    fs.mkdirSync(kept);
    const missing = path.join(dir, 'no-such.manifest');
    expect(() => copyManifest(missing, path.join(kept, 'manifest:55.manifest'))).toThrow(new RegExp(`cannot copy the manifest ${missing} to .*manifest:55\\.manifest.*ENOENT`));
    expect(fs.readdirSync(kept)).toEqual([]);
  });

  it('names the copy when its disk fills mid-copy, and leaves no temp and nothing renamed', async () => {
    const shipped = large;
    largeBytes();
    const full = path.join(dir, 'full');
    fs.mkdirSync(full);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', full]);
    try {
      const to = path.join(full, 'manifest:66.manifest');
      expect(fs.statSync(shipped).size).toBeGreaterThan(2 << 20);
      expect(() => copyManifest(shipped, to)).toThrow(new RegExp(`cannot copy the manifest ${shipped} to ${to}.*ENOSPC`));
      expect(fs.readdirSync(full)).toEqual([]);
    } finally {
      await run('umount', [full]);
    }
  });
});
