// The offline guard decides "is the upper in use" by the directories' identity, not by how a path is spelled.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { readMountinfo } from '../../src/mount/mountinfo.js';
import { mountOverlay } from '../../src/mount/overlay.js';
import { layoutFor } from '../../src/paths/layout.js';
import { onlineReason } from '../../src/txn/offline.js';
import { makeScratch, type Scratch } from '../mount/scratch.js';

let s: Scratch;
beforeEach(() => (s = makeScratch()));
afterEach(() => s.cleanup());

describe('onlineReason', () => {
  it('finds the overlay mounted on the upper through a symlinked root', async () => {
    await mountOverlay(s.ctx().overlay('opt'), s.log);
    const link = `${s.root}-link`;
    fs.symlinkSync(s.root, link);
    try {
      const reason = onlineReason(readMountinfo(), layoutFor(link, 'opt', '/opt'), true);
      expect(reason).toBe(`overlay opt is mounted on ${s.root}/opt: unmount it first (this runs offline)`);
    } finally {
      fs.unlinkSync(link);
    }
  });

  it('finds it through a bind of the root made before the mount (no string names the upper the same way)', async () => {
    const other = `${s.root}-bind`;
    fs.mkdirSync(other);
    await run('mount', ['--bind', '--make-private', s.root, other]);
    try {
      await mountOverlay(s.ctx().overlay('opt'), s.log);
      // The bind is private: the overlay shows at ROOT/opt only, yet ROOT-bind/var/…/upper is the same directory.
      expect(readMountinfo().some((m) => m.mountpoint === path.join(other, 'opt'))).toBe(false);
      expect(onlineReason(readMountinfo(), layoutFor(other, 'opt', '/opt'), true)).toBe(`overlay opt is mounted on ${s.root}/opt: unmount it first (this runs offline)`);
    } finally {
      await run('umount', ['-l', other]);
      fs.rmdirSync(other);
    }
  });

  it('is undefined when nothing uses the upper', () => {
    expect(onlineReason(readMountinfo(), layoutFor(s.root, 'opt', '/opt'), true)).toBeUndefined();
  });
});
