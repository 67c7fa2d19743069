// mount / unmount through the CLI: messages, exit codes, invalid NAMEs refused with nothing mounted.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, makeScratch, type Scratch } from './scratch.js';

let s: Scratch;
beforeEach(() => {
  s = makeScratch();
});
afterEach(() => s.cleanup());

describe('state-overlay mount / unmount', () => {
  it('mounts, says so when already mounted, and unmounts; busy fails with exit 75 naming the holder', async () => {
    const t = path.join(s.root, 'opt');
    expect(await cli(s.root, ['-q', 'mount', 'opt'])).toMatchObject({ exitCode: 0, stdout: `mounted opt on ${t}`, stderr: '' });
    expect(await cli(s.root, ['-q', 'mount', 'opt'])).toMatchObject({ exitCode: 0, stdout: `opt is already mounted on ${t}` });
    const child = await s.hold(t);
    expect(await cli(s.root, ['-q', 'unmount', 'opt'])).toMatchObject({
      exitCode: 75,
      stdout: '',
      stderr: `state-overlay: ${t} is busy: held by pid ${child.pid} (sleep 600): cwd (stop them first; 'unmount --lazy' only at shutdown: a detached overlay keeps writing into the upper until they exit)`,
    });
    expect(s.mounts()).toHaveLength(2);
    expect(await cli(s.root, ['-q', 'unmount', '--lazy', 'opt'])).toMatchObject({ exitCode: 0, stdout: `unmounted opt from ${t}` });
    expect(s.mounts()).toEqual([]);
    const r = await cli(s.root, ['-q', '--json', 'unmount', 'opt']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ apiVersion: 'state-overlay/v1', kind: 'UnmountReport', name: 'opt', target: t, mounted: false, changed: false });
  });

  it('refuses to mount over an interrupted reconcile', async () => {
    s.write('var/lib/state-overlay/opt/journal', '{}');
    const j = path.join(s.root, 'var/lib/state-overlay/opt/journal');
    expect(await cli(s.root, ['-q', 'mount', 'opt'])).toMatchObject({
      exitCode: 75,
      stderr: `state-overlay: ${j}: a reconcile of opt was interrupted; finish it with 'state-overlay run opt' before mounting`,
    });
    expect(s.mounts()).toEqual([]);
  });

  it.each([
    ['-', "NAME '-': mountpoint '/' cannot be overlaid: the root filesystem is not a valid target"],
    ['proc', "NAME 'proc': mountpoint '/proc' lies in /proc, which cannot be overlaid"],
    ['run-state\\x2doverlay', "NAME 'run-state\\x2doverlay': mountpoint '/run/state-overlay' lies in /run, which cannot be overlaid"],
    ['var-lib-state\\x2doverlay-opt', "NAME 'var-lib-state\\x2doverlay-opt': mountpoint '/var/lib/state-overlay/opt' lies in the state directory /var/lib/state-overlay"],
    ['opt/x', "NAME 'opt/x' is not a systemd-escaped path (use 'systemd-escape --path /opt' → 'opt')"],
  ])('refuses NAME %s with exit 2 and mounts nothing', async (name, message) => {
    for (const cmd of ['mount', 'run']) {
      expect(await cli(s.root, ['-q', cmd, name])).toMatchObject({ exitCode: 2, stdout: '', stderr: `state-overlay: ${message}` });
    }
    expect(s.mounts()).toEqual([]);
    expect(fs.existsSync(path.join(s.root, 'var'))).toBe(false);
  });
});
