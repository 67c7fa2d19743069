// The copy of a shipped manifest into the state dir: the same bytes, root's only, and the temp files that
// copies killed before their rename left are removed (a host whose base ships its manifest never builds
// one, so nothing else would).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyManifest } from '../../src/manifest/copy.js';
import { encodeManifest } from '../../src/manifest/encode.js';
import { rel, removeTree, scratch } from '../tree/fixtures.js';

const dir = scratch('so-copy-');
afterAll(async () => removeTree(dir));

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
});
