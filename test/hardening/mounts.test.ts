// Mounts as real hosts have them: a --root reached through a symlink, a lazily detached overlay still
// written to, overlays nested in each other, an ExecStop with a broken configuration, a NAME whose
// mountpoint does not exist. Each is refused or handled with nothing lost and nothing left behind.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshot } from '../ops/scratch.js';
import { buildCliCase, smallCase } from './cases.js';
import { assertNothingLost, cli, mountsUnder, recordCase, scratchTop } from './harness.js';

const scratch = scratchTop('so-mounts-', 'mode=0755,size=256m');
const CASE = smallCase('mounts', 5);
const fresh = (conf = '') => buildCliCase(scratch.next(), CASE, conf);
const first = (stderr: string) => stderr.split('\n')[0];

describe('a --root reached through a symlink', () => {
  it('sees the overlay mounted through the real path: offline commands refuse, mount and unmount find it', async () => {
    const { s, original, root } = await fresh();
    const link = `${root}-link`;
    fs.symlinkSync(root, link);
    try {
      expect(await cli(root, ['mount', 'opt'])).toMatchObject({ exitCode: 0, stdout: `mounted opt on ${root}/opt` });
      for (const args of [['reconcile', 'opt'], ['vacuum', 'opt']]) {
        const r = await cli(link, args);
        expect(r, args.join(' ')).toMatchObject({ exitCode: 3, stderr: `state-overlay: overlay opt is mounted on ${root}/opt: unmount it first (this runs offline)` });
      }
      expect(snapshot(s.ov.layout.upper)).toEqual(original);
      expect(await cli(link, ['mount', 'opt'])).toMatchObject({ exitCode: 0, stdout: `opt is already mounted on ${root}/opt` });
      expect(await cli(link, ['unmount', 'opt'])).toMatchObject({ exitCode: 0, stdout: `unmounted opt from ${root}/opt` });
      expect(mountsUnder(root)).toEqual([]);
      const r = await cli(link, ['reconcile', 'opt']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    } finally {
      await cli(root, ['unmount', 'opt']);
      fs.unlinkSync(link);
    }
    assertNothingLost('privileges and paths', 'a --root reached through a symlink', s.ov.layout, original);
  });
});

describe('overlays of one host nested in each other', () => {
  it('mounting over, or inside, another state-overlay overlay is refused naming it', async () => {
    const { s, original, root } = await fresh();
    fs.mkdirSync(path.join(root, 'opt/app'));
    const [opt, app] = [path.join(root, 'opt'), path.join(root, 'opt/app')];
    try {
      expect((await cli(root, ['mount', 'opt-app'])).exitCode).toBe(0);
      for (const args of [['mount', 'opt'], ['run', 'opt']]) {
        const r = await cli(root, args);
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(3);
        expect(first(r.stderr)).toBe(`state-overlay: cannot mount opt on ${opt}: overlay opt-app is mounted on ${app}, below it, and state-overlay overlays do not nest: unmount opt-app first`);
      }
      expect(mountsUnder(root).filter((m) => !m.includes('/run/'))).toEqual([app]);
      expect(await cli(root, ['unmount', 'opt-app'])).toMatchObject({ exitCode: 0, stdout: `unmounted opt-app from ${app}` });
      expect((await cli(root, ['mount', 'opt'])).exitCode).toBe(0);
      for (const args of [['mount', 'opt-app'], ['run', 'opt-app']]) {
        const r = await cli(root, args);
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(3);
        expect(first(r.stderr)).toBe(`state-overlay: cannot mount opt-app on ${app}: it lies in overlay opt, mounted on ${opt}, and state-overlay overlays do not nest: unmount opt first`);
      }
      expect(mountsUnder(root).filter((m) => !m.includes('/run/'))).toEqual([opt]);
    } finally {
      await cli(root, ['unmount', 'opt']);
      await cli(root, ['unmount', 'opt-app']);
    }
    expect(snapshot(s.ov.layout.upper)).toEqual(original);
    assertNothingLost('privileges and paths', 'overlays nested in each other', s.ov.layout, original);
  });
});

describe('unmount (the unit\'s ExecStop) with a broken configuration', () => {
  it.each([
    ['persistent', ''],
    ['ephemeral', '[Overlay]\nMode=ephemeral\n'],
    ['Path= elsewhere', '[Overlay]\nPath=/srv/opt\nBase=/opt\n'],
  ])('%s: unmounts from the recorded state and says the configuration is broken', async (what, conf) => {
    const { s, original, root } = await fresh(conf);
    fs.mkdirSync(path.join(root, 'srv/opt'), { recursive: true });
    const mounted = await cli(root, ['mount', 'opt']);
    expect(mounted.exitCode, mounted.stderr).toBe(0);
    const target = mounted.stdout.replace(/^mounted opt on /, '');
    const file = path.join(root, 'etc/state-overlay/opt.conf');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${conf}[Overlay]\nReconcile=sometimes\n`);
    const r = await cli(root, ['unmount', 'opt']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(`unmounted opt from ${target}`);
    expect(r.stderr).toContain(`configuration of opt is broken, unmounting what its state dirs show mounted: ${file}:`);
    expect(mountsUnder(root).filter((m) => !m.endsWith('/run/state-overlay/opt'))).toEqual([]);
    // Everything else still refuses the broken configuration.
    expect((await cli(root, ['mount', 'opt'])).exitCode).toBe(5);
    expect(await cli(root, ['unmount', 'opt'])).toMatchObject({ exitCode: 0, stdout: `opt is not mounted on ${path.join(root, 'opt')}` });
    if (what !== 'ephemeral') assertNothingLost('corrupt state', `unmount with a broken configuration (${what})`, s.ov.layout, original);
    else recordCase('corrupt state', 'unmount with a broken configuration (ephemeral)');
  });
});

describe('a NAME whose mountpoint does not exist', () => {
  it.each([[['run']], [['mount']], [['diff']], [['reconcile']], [['reconcile', '--dry-run']], [['index']], [['vacuum']]])(
    '%j says so (exit 2) and leaves nothing behind',
    async (args) => {
      const { root } = await fresh();
      const r = await cli(root, [...args, 'opt-nope']);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(first(r.stderr)).toBe(`state-overlay: mountpoint ${root}/opt/nope does not exist`);
      expect(fs.existsSync(path.join(root, 'var/lib/state-overlay/opt-nope'))).toBe(false);
      expect(fs.existsSync(path.join(root, 'run/state-overlay/opt-nope'))).toBe(false);
      const status = await cli(root, ['--json', 'status']);
      expect(status.stdout).not.toContain('opt-nope');
      expect(mountsUnder(root)).toEqual([]);
      recordCase('privileges and paths', `${args.join(' ')} of a NAME without a mountpoint`);
    },
  );
});

describe('a Base= that does not exist', () => {
  it.each([[['run']], [['mount']], [['diff']], [['reconcile']], [['index']], [['index', '--ship']]])('%j says so (exit 2), changing nothing', async (args) => {
    const { s, original, root } = await fresh('[Overlay]\nBase=/usr/lib/nope\n');
    const r = await cli(root, [...args, 'opt']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(first(r.stderr)).toBe(`state-overlay: base ${root}/usr/lib/nope does not exist`);
    expect(snapshot(s.ov.layout.upper)).toEqual(original);
    expect(mountsUnder(root)).toEqual([]);
    assertNothingLost('privileges and paths', `${args.join(' ')} with a Base= that does not exist`, s.ov.layout, original);
  });
});
