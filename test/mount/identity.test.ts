import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/exec.js';
import { devName, fileId, layerId, overlayShownAt, sameId } from '../../src/mount/identity.js';
import { readMountinfo, topMountAt } from '../../src/mount/mountinfo.js';
import { mountOverlay, mountStatus } from '../../src/mount/overlay.js';
import { onlineReason } from '../../src/txn/offline.js';
import { escapeLayerPath } from '../../src/mount/options.js';
import { makeScratch, type Scratch } from './scratch.js';

describe('devName', () => {
  // glibc's makedev: minor low byte, major 12 bits, then the high bits of minor and of major.
  const makedev = (major: bigint, minor: bigint) => (minor & 0xffn) | ((major & 0xfffn) << 8n) | ((minor & 0xffffff00n) << 12n) | ((major & 0xfffff000n) << 32n);
  it.each([
    [0n, 44n, '0:44'],
    [254n, 0n, '254:0'],
    [259n, 65537n, '259:65537'],
    [4096n, 300n, '4096:300'],
  ])('makedev(%i, %i) is %s', (major, minor, want) => expect(devName(makedev(major, minor))).toBe(want));
});

describe('identity on a scratch tree', () => {
  let s: Scratch;
  beforeEach(() => (s = makeScratch()));
  afterEach(() => {
    vi.restoreAllMocks();
    return s.cleanup();
  });

  it('names a mounted filesystem as mountinfo does', async () => {
    const dir = path.join(s.root, 'tmp');
    fs.mkdirSync(dir);
    await run('mount', ['-t', 'tmpfs', 'so-test', dir]);
    expect(devName(fileId(dir)!.dev)).toBe(topMountAt(readMountinfo(), dir)!.dev);
  });

  it('resolves a layer option shown escaped or plain; nothing for a path that is not there', () => {
    const dir = path.join(s.root, 'a,b:c\\d');
    fs.mkdirSync(dir);
    expect(sameId(layerId(escapeLayerPath(dir)), fileId(dir))).toBe(true);
    expect(sameId(layerId(dir), fileId(dir))).toBe(true);
    expect(layerId(path.join(s.root, 'nope'))).toBeUndefined();
    expect(layerId(undefined)).toBeUndefined();
    expect(layerId('relative')).toBeUndefined();
  });

  it('finds the overlay a directory shows, and none where the overlay is covered', async () => {
    const dirs = ['l', 'u', 'w', 'm', 'top-u', 'top-w'].map((d) => path.join(s.root, d));
    for (const d of dirs) fs.mkdirSync(d);
    const [l, u, w, m, tu, tw] = dirs as [string, string, string, string, string, string];
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${l},upperdir=${u},workdir=${w}`, m]);
    expect(overlayShownAt(readMountinfo(), m)?.superOptions.get('upperdir')).toBe(u);
    expect(overlayShownAt(readMountinfo(), l)).toBeUndefined();
    // Another overlay mounted over the first one's parent: m still has its mountinfo line, but shows something else.
    fs.mkdirSync(path.join(s.root, 'l2/m'), { recursive: true });
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${path.join(s.root, 'l2')},upperdir=${tu},workdir=${tw}`, s.root]);
    try {
      expect(readMountinfo().some((e) => e.mountpoint === m)).toBe(true);
      expect(overlayShownAt(readMountinfo(), m)).toBeUndefined();
    } finally {
      await run('umount', [s.root]);
    }
  });

  it('another overlay whose upper cannot be resolved (EIO) is not ours, and fails nothing of ours', async () => {
    const dirs = ['l', 'u', 'w', 'm'].map((d) => path.join(s.root, 'other', d));
    for (const d of dirs) fs.mkdirSync(d, { recursive: true });
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dirs[0]},upperdir=${dirs[1]},workdir=${dirs[2]}`, dirs[3]!]);
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    const stat = fs.statSync;
    vi.spyOn(fs, 'statSync').mockImplementation(((p: fs.PathLike, o?: fs.StatSyncOptions) => {
      if (String(p) === dirs[1]) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      return stat(p, o);
    }) as typeof fs.statSync);
    expect(mountStatus(ov).state).toBe('mounted');
    expect(onlineReason(readMountinfo(), ov.layout, true)).toBe(`overlay opt is mounted on ${ov.layout.target}: unmount it first (this runs offline)`);
  });
});
