// An overlay gone from this mount table but still alive (lazily detached while used, or a private copy in
// another mount namespace) keeps writing into the upper: mount and the offline guard refuse until it is gone.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detachedHolders } from '../../src/mount/detached.js';
import { mappedDevices } from '../../src/mount/holders.js';
import { readMountinfo } from '../../src/mount/mountinfo.js';
import { mountOverlay } from '../../src/mount/overlay.js';
import { unmountOverlay } from '../../src/mount/unmount.js';
import { assertOffline } from '../../src/txn/offline.js';
import { makeScratch, stopChild, type Scratch } from './scratch.js';

let s: Scratch;
beforeEach(() => (s = makeScratch()));
afterEach(() => s.cleanup());

describe('mappedDevices', () => {
  it('reads the device of each mapped file, not of anonymous mappings', () => {
    const maps = [
      '7fa5005c7000-7fa5005c8000 rw-s 00000000 00:2c 2146677                    /f',
      '55d0c0a00000-55d0c0a21000 r-xp 00000000 fe:00 1234                       /usr/bin/sleep (deleted)',
      '7ffdecb6d000-7ffdecb8e000 rw-p 00000000 00:00 0                          [stack]',
      '',
    ].join('\n');
    expect([...mappedDevices(maps)]).toEqual(['0:44', '254:0']);
  });
});

describe('a detached overlay still in use', () => {
  it('held only by a program run from it: refused while it runs, the record dropped once it exits', async () => {
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    const prog = path.join(ov.layout.target, 'app/bin/sleeper');
    fs.copyFileSync(fs.realpathSync('/bin/sleep'), prog);
    fs.chmodSync(prog, 0o755);
    const child = spawn(prog, ['600'], { cwd: '/', stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    try {
      expect(await unmountOverlay(ov, s.log, { lazy: true })).toBe(true);
      expect(s.mounts()).toEqual([]);
      expect(s.log.events).toContainEqual(expect.objectContaining({ event: 'warning', message: expect.stringMatching(/detached while in use by pid \d+ \(.*sleeper 600\): map: until they exit/) }));
      const upper = ov.layout.upper;
      const why = `overlay opt was detached from ${ov.layout.target} but is still in use, so writes can still reach ${upper}: held by pid ${child.pid} (${prog} 600): map; stop them first`;
      await expect(mountOverlay(ov, s.log)).rejects.toMatchObject({ code: 'busy', message: why });
      expect(() => assertOffline(ov.layout, true)).toThrow(why);
      expect(s.mounts()).toEqual([]);
    } finally {
      await stopChild(child);
    }
    expect(detachedHolders(ov.layout, readMountinfo())).toBeUndefined();
    expect(fs.existsSync(ov.layout.mountRecord)).toBe(false);
    expect(await mountOverlay(ov, s.log)).toBe(true);
    expect(JSON.parse(fs.readFileSync(ov.layout.mountRecord, 'utf8'))).toEqual({ dev: expect.stringMatching(/^0:\d+$/), mountpoint: ov.layout.target });
  });

  it('a private copy in another mount namespace outlives the unmount here: refused naming it', async () => {
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '600'], { cwd: '/', stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    // unshare execs sleep once its namespace is made: wait for that.
    for (let i = 0; i < 100 && !fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 20));
    try {
      expect(await unmountOverlay(ov, s.log)).toBe(true);
      expect(s.mounts()).toEqual([]);
      await expect(mountOverlay(ov, s.log)).rejects.toMatchObject({
        code: 'busy',
        message: `overlay opt was detached from ${ov.layout.target} but is still in use, so writes can still reach ${ov.layout.upper}: held by pid ${child.pid} (sleep 600): mounted on ${ov.layout.target} in its mount namespace; stop them first`,
      });
    } finally {
      await stopChild(child);
    }
    expect(await mountOverlay(ov, s.log)).toBe(true);
  });

  it('a record that does not parse is an error naming it, not a guess', async () => {
    const ov = s.ctx().overlay('opt');
    fs.mkdirSync(ov.layout.runDir, { recursive: true });
    fs.writeFileSync(ov.layout.mountRecord, '{"dev":');
    await expect(mountOverlay(ov, s.log)).rejects.toMatchObject({ code: 'corrupt', message: `${ov.layout.mountRecord}: not a mount record: if no process still uses the overlay once mounted there (see lsof), remove it` });
    expect(s.mounts()).toEqual([]);
  });
});
