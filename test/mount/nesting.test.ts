// Overlays of one root never nest: mounting over or inside another state-overlay overlay is refused.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { mountOverlay, mountStatus } from '../../src/mount/overlay.js';
import { unmountOverlay } from '../../src/mount/unmount.js';
import { makeScratch, type Scratch } from './scratch.js';

let s: Scratch;
beforeEach(() => {
  s = makeScratch();
});
afterEach(() => s.cleanup());

describe('nested overlays', () => {
  it('refuses to mount over a state-overlay overlay below, naming it; nothing mounted', async () => {
    const app = s.ctx().overlay('opt-app');
    await mountOverlay(app, s.log);
    const before = s.mounts();
    await expect(mountOverlay(s.ctx().overlay('opt'), s.log)).rejects.toMatchObject({
      code: 'mounted',
      message: `cannot mount opt on ${s.root}/opt: overlay opt-app is mounted on ${s.root}/opt/app, below it, and state-overlay overlays do not nest: unmount opt-app first`,
    });
    expect(s.mounts()).toEqual(before);
    expect(await unmountOverlay(app, s.log)).toBe(true);
  });

  it('refuses to mount inside a state-overlay overlay, ephemeral ones too', async () => {
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nMode=ephemeral\n');
    await mountOverlay(s.ctx().overlay('opt'), s.log);
    const before = s.mounts();
    await expect(mountOverlay(s.ctx().overlay('opt-app'), s.log)).rejects.toMatchObject({
      code: 'mounted',
      message: `cannot mount opt-app on ${s.root}/opt/app: it lies in overlay opt, mounted on ${s.root}/opt, and state-overlay overlays do not nest: unmount opt first`,
    });
    expect(s.mounts()).toEqual(before);
  });

  it('an overlay that is not state-overlay\'s below the mountpoint is no reason to refuse', async () => {
    const dirs = ['l', 'u', 'w'].map((d) => path.join(s.root, 'other', d));
    for (const d of dirs) fs.mkdirSync(d, { recursive: true });
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dirs[0]},upperdir=${dirs[1]},workdir=${dirs[2]}`, path.join(s.root, 'opt/app')]);
    expect(await mountOverlay(s.ctx().overlay('opt'), s.log)).toBe(true);
  });

  it('unmount of an overlay hidden by one mounted over its parent fails naming it, instead of "not mounted"', async () => {
    const app = s.ctx().overlay('opt-app');
    await mountOverlay(app, s.log);
    // Nested by hand (an older version did not refuse): an overlay over /opt hides /opt/app.
    const dirs = ['l', 'u', 'w'].map((d) => path.join(s.root, 'by-hand', d));
    for (const d of dirs) fs.mkdirSync(d, { recursive: true });
    fs.mkdirSync(path.join(dirs[0]!, 'app'));
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dirs[0]},upperdir=${dirs[1]},workdir=${dirs[2]}`, path.join(s.root, 'opt')]);
    expect(mountStatus(app).state).toBe('unmounted');
    await expect(unmountOverlay(app, s.log)).rejects.toMatchObject({
      code: 'mounted',
      message: `overlay opt-app is mounted on ${s.root}/opt/app but hidden there by a mount over it or over a parent: unmount that one first`,
    });
    await run('umount', [path.join(s.root, 'opt')]);
    expect(await unmountOverlay(app, s.log)).toBe(true);
  });
});
