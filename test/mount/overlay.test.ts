import fs from 'node:fs';
import path from 'node:path';
import { getAttributeSync, setAttributeSync } from 'fs-xattr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { run } from '../../src/exec.js';
import { propagation, readMountinfo, topMountAt } from '../../src/mount/mountinfo.js';
import { mountOverlay, mountStatus } from '../../src/mount/overlay.js';
import { unmountOverlay } from '../../src/mount/unmount.js';
import { makeScratch, type Scratch } from './scratch.js';

let s: Scratch;

beforeEach(() => {
  s = makeScratch();
});
afterEach(() => s.cleanup());

describe('mountOverlay / unmountOverlay', () => {
  it('mounts with the exact options over its own lower, through a private read-only bind', async () => {
    fs.chmodSync(path.join(s.root, 'opt'), 0o751);
    const ov = s.ctx().overlay('opt');
    expect(await mountOverlay(ov, s.log)).toBe(true);
    const top = topMountAt(readMountinfo(), ov.layout.target)!;
    expect(top.fstype).toBe('overlay');
    expect(top.superOptions.get('lowerdir')).toBe(ov.layout.baseBind);
    expect(top.superOptions.get('upperdir')).toBe(ov.layout.upper);
    expect(top.superOptions.get('workdir')).toBe(ov.layout.work);
    const bind = topMountAt(readMountinfo(), ov.layout.baseBind)!;
    expect(propagation(bind)).toBe('private');
    expect(bind.mountOptions).toContain('ro');
    // writes go to the upper, base content shows through
    expect(fs.readFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'utf8')).toBe('v1\n');
    fs.writeFileSync(path.join(ov.layout.target, 'state.db'), 'x');
    expect(fs.readFileSync(path.join(ov.layout.upper, 'state.db'), 'utf8')).toBe('x');
    expect(fs.statSync(ov.layout.stateDir).mode & 0o777).toBe(0o700);
    // the merged root keeps the base root's mode and owner, not the state dir's 0700
    expect(fs.statSync(ov.layout.target).mode & 0o7777).toBe(0o751);
    expect(s.log.events).toContainEqual(expect.objectContaining({ event: 'mount.done', name: 'opt', target: ov.layout.target }));
  });

  it('is idempotent: a second mount does nothing', async () => {
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    const before = s.mounts();
    expect(await mountOverlay(ov, s.log)).toBe(false);
    expect(s.mounts()).toEqual(before);
    expect(s.log.events.at(-1)).toEqual({ event: 'mount.already', name: 'opt', target: ov.layout.target });
  });

  it('keeps the base bind showing the base, not the overlay, under shared propagation', async () => {
    // Make the scratch tree a shared mount, as / is on a systemd host: the trap needs it.
    await run('mount', ['--bind', s.root, s.root]);
    await run('mount', ['--make-shared', s.root]);
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    fs.writeFileSync(path.join(ov.layout.target, 'only-in-overlay'), 'x');
    fs.writeFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'edited\n');
    expect(fs.existsSync(path.join(ov.layout.baseBind, 'only-in-overlay'))).toBe(false);
    expect(fs.readFileSync(path.join(ov.layout.baseBind, 'app/bin/tool'), 'utf8')).toBe('v1\n');
    expect(readMountinfo().filter((m) => m.mountpoint === ov.layout.baseBind).map((m) => m.fstype)).toEqual(['ext4']);
    // The bind was made in a shared parent: it must come out private (no peer group) and read-only.
    expect(propagation(topMountAt(readMountinfo(), s.root)!)).toBe('shared');
    const bind = topMountAt(readMountinfo(), ov.layout.baseBind)!;
    expect(bind.optional).toEqual([]);
    expect(bind.mountOptions).toContain('ro');
    expect(() => fs.writeFileSync(path.join(ov.layout.baseBind, 'x'), 'x')).toThrow(/EROFS/);
  });

  it('unmounts the overlay and the bind; a second unmount does nothing', async () => {
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    expect(await unmountOverlay(ov, s.log)).toBe(true);
    expect(s.mounts()).toEqual([]);
    expect(mountStatus(ov).state).toBe('unmounted');
    expect(await unmountOverlay(ov, s.log)).toBe(false);
  });

  it('names the processes holding a busy mount, and detaches it with lazy', async () => {
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    const child = await s.hold(path.join(ov.layout.target, 'app'));
    await expect(unmountOverlay(ov, s.log)).rejects.toMatchObject({
      code: 'busy',
      message: `${ov.layout.target} is busy: held by pid ${child.pid} (sleep 600): cwd (stop them first; 'unmount --lazy' only at shutdown: a detached overlay keeps writing into the upper until they exit)`,
    });
    expect(mountStatus(ov).state).toBe('mounted');
    expect(await unmountOverlay(ov, s.log, { lazy: true })).toBe(true);
    expect(s.mounts()).toEqual([]);
    expect(s.log.events.at(-1)).toEqual({ event: 'unmount.done', name: 'opt', target: ov.layout.target, lazy: true });
  });

  it('refuses a second overlay on an upper mounted elsewhere (the root reached through a private bind)', async () => {
    await mountOverlay(s.ctx().overlay('opt'), s.log);
    const other = `${s.root}-bind`;
    fs.mkdirSync(other);
    await run('mount', ['--bind', '--make-private', s.root, other]);
    try {
      // ROOT-bind/opt shows the base (the bind was made before, privately), but its upper is the mounted one.
      const ov = createContext({ root: other }, s.log).overlay('opt');
      expect(mountStatus(ov).state).toBe('unmounted');
      const before = s.mounts();
      await expect(mountOverlay(ov, s.log)).rejects.toMatchObject({
        code: 'mounted',
        message: `overlay opt is mounted on ${s.root}/opt, not on ${other}/opt: a second overlay on its upper ${other}/var/lib/state-overlay/opt/upper would corrupt it; unmount that one first`,
      });
      expect(s.mounts()).toEqual(before);
    } finally {
      await run('umount', ['-R', '-l', other]);
      fs.rmdirSync(other);
    }
  });

  it('a mountpoint it cannot resolve, other than absent, is an error naming it, not unmounted', () => {
    const ov = s.ctx().overlay('opt');
    fs.rmSync(ov.layout.target, { recursive: true });
    expect(mountStatus(ov).state).toBe('unmounted');
    fs.symlinkSync('opt', ov.layout.target); // a loop: ELOOP, not ENOENT
    expect(() => mountStatus(ov)).toThrow(`cannot resolve ${ov.layout.target}: ELOOP`);
  });

  it('gives the upper the SELinux label of the mountpoint, not of the state dir', async () => {
    const label = Buffer.from('system_u:object_r:usr_t:s0\0');
    setAttributeSync(path.join(s.root, 'opt'), 'security.selinux', label);
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    expect(getAttributeSync(ov.layout.upper, 'security.selinux')).toEqual(label);
  });

  it('mounts a NAME whose state path holds systemd escapes (opt-my\\x2dapp)', async () => {
    fs.mkdirSync(path.join(s.root, 'opt/my-app'));
    const ov = s.ctx().overlay('opt-my\\x2dapp');
    expect(await mountOverlay(ov, s.log)).toBe(true);
    expect(mountStatus(ov).state).toBe('mounted');
    expect(await mountOverlay(ov, s.log)).toBe(false);
    expect(await unmountOverlay(ov, s.log)).toBe(true);
    expect(s.mounts()).toEqual([]);
  });

  it('mounts ephemeral upper and work on a tmpfs under /run', async () => {
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nMode=ephemeral\n');
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    expect(ov.layout.upper).toBe(path.join(s.root, 'run/state-overlay/opt/upper'));
    expect(topMountAt(readMountinfo(), ov.layout.runDir)!.fstype).toBe('tmpfs');
    fs.writeFileSync(path.join(ov.layout.target, 'scratch'), 'x');
    expect(fs.existsSync(path.join(ov.layout.upper, 'scratch'))).toBe(true);
    expect(topMountAt(readMountinfo(), ov.layout.runDir)!.source).toBe('state-overlay-opt');
    // A reload's unmount keeps the tmpfs (the upper it holds is mounted again at once) ...
    await unmountOverlay(ov, s.log, { keepEphemeral: true });
    expect(s.mounts()).toEqual([ov.layout.runDir]);
    await mountOverlay(ov, s.log);
    expect(fs.readFileSync(path.join(ov.layout.target, 'scratch'), 'utf8')).toBe('x');
    // ... and a stop releases it: the next start begins from the image.
    await unmountOverlay(ov, s.log);
    expect(s.mounts()).toEqual([]);
    await mountOverlay(ov, s.log);
    expect(fs.existsSync(path.join(ov.layout.target, 'scratch'))).toBe(false);
    await unmountOverlay(ov, s.log);
  });

  it('sizes the ephemeral tmpfs by EphemeralSize=, even where the run dir is on a tmpfs already', async () => {
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nMode=ephemeral\nEphemeralSize=8M\n');
    const ov = s.ctx().overlay('opt');
    fs.mkdirSync(path.join(s.root, 'run'), { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', path.join(s.root, 'run')]);
    try {
      await mountOverlay(ov, s.log);
      const m = topMountAt(readMountinfo(), ov.layout.runDir)!;
      expect([m.fstype, m.source]).toEqual(['tmpfs', 'state-overlay-opt']);
      expect(m.superOptions.get('size')).toBe('8192k');
      await unmountOverlay(ov, s.log);
    } finally {
      await run('umount', ['-R', path.join(s.root, 'run')]);
    }
  });

  it('mounts a separate Base= on the mountpoint', async () => {
    s.write('usr/lib/opt/app/bin/tool', 'v2 from image\n');
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/usr/lib/opt\n');
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    expect(fs.readFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'utf8')).toBe('v2 from image\n');
    expect(fs.existsSync(path.join(ov.layout.target, 'app/etc/app.conf'))).toBe(false);
    expect(fs.readFileSync(path.join(ov.layout.baseBind, 'app/bin/tool'), 'utf8')).toBe('v2 from image\n');
  });
});
