// Mounts as real hosts have them: a --root reached through a symlink, a lazily detached overlay still
// written to, overlays nested in each other, an ExecStop with a broken configuration, a NAME whose
// mountpoint does not exist. Each is refused or handled with nothing lost and nothing left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { snapshot } from '../ops/scratch.js';
import { buildCliCase, smallCase } from './cases.js';
import { assertNothingLost, cli, mountsUnder, recordCase, scratchTop } from './harness.js';

const scratch = scratchTop('so-mounts-', 'mode=0755,size=256m');
const CASE = smallCase('mounts', 5);
const fresh = (conf = '') => buildCliCase(scratch.next(), CASE, conf);
const first = (stderr: string) => stderr.split('\n')[0];

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  }
});

/**
 * A writer with its cwd in dir and dir/db open for appending; on SIGUSR1 it appends `late` and creates
 * `late-file` (through whatever it still holds), then exits.
 */
async function writer(dir: string): Promise<ChildProcess> {
  const script = [
    "const fs = require('node:fs');",
    "const fd = fs.openSync('db', 'a');",
    "process.on('SIGUSR1', () => { fs.writeSync(fd, 'late\\n'); fs.writeFileSync('late-file', 'late\\n'); process.exit(0); });",
    'setInterval(() => {}, 1000);',
    "process.stdout.write('ready\\n');",
  ].join(' ');
  const child = spawn(process.execPath, ['-e', script], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', () => resolve());
  });
  return child;
}

const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', r)));

describe('a --root reached through a symlink', () => {
  it('sees the overlay mounted through the real path: offline commands refuse, mount and unmount find it', async () => {
    const { s, original, root } = await fresh();
    const link = `${root}-link`;
    fs.symlinkSync(root, link);
    try {
      expect(await cli(root, ['mount', 'opt'])).toMatchObject({ exitCode: 0, stdout: `mounted opt on ${root}/opt` });
      for (const args of [['reconcile', 'opt'], ['vacuum', 'opt']]) {
        const r = await cli(link, args);
        expect(r, args.join(' ')).toMatchObject({ exitCode: 75, stderr: `state-overlay: overlay opt is mounted on ${root}/opt: unmount it first (this runs offline)` });
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

describe('unmount --lazy with a writer still inside', () => {
  it('reconcile and mount refuse, naming the writer, until it is gone; its late writes stay in the upper', async () => {
    const { s, original, root } = await fresh();
    const target = path.join(root, 'opt');
    const upper = s.ov.layout.upper;
    // What the host wrote, the writer's late output included: all of it must survive the reconcile.
    let written = original;
    try {
      expect((await cli(root, ['mount', 'opt'])).exitCode).toBe(0);
      const w = await writer(path.join(target, 'data'));
      const busy = await cli(root, ['unmount', 'opt']);
      expect(busy.exitCode).toBe(75);
      expect(first(busy.stderr)).toMatch(new RegExp(`^state-overlay: ${target} is busy: held by pid ${w.pid} \\(.*\\): cwd, fd \\d+ \\(stop them first; .*\\)$`));
      expect(first(busy.stderr)).not.toMatch(/or use --lazy/);
      expect(await cli(root, ['unmount', '--lazy', 'opt'])).toMatchObject({ exitCode: 0, stdout: `unmounted opt from ${target}` });
      expect(mountsUnder(root)).toEqual([]);
      for (const args of [['run', 'opt'], ['reconcile', 'opt'], ['mount', 'opt']]) {
        const r = await cli(root, args);
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(75);
        expect(first(r.stderr)).toMatch(
          new RegExp(`^state-overlay: overlay opt was detached from ${target} but is still in use, so writes can still reach ${upper}: held by pid ${w.pid} \\(.*\\): cwd, fd \\d+; stop them first$`),
        );
        expect(mountsUnder(root)).toEqual([]);
        expect(snapshot(upper)).toEqual(original);
      }
      // status says so, naming the writer, in text and JSON.
      const st = await cli(root, ['status', 'opt']);
      expect(st.exitCode, st.stderr).toBe(0);
      expect(st.stdout).toMatch(new RegExp(`detached: +detached from ${target} but still in use, writes still reach the upper: held by pid ${w.pid} \\(.*\\): cwd, fd \\d+; run, reconcile and mount wait until they stop`));
      const sj = JSON.parse((await cli(root, ['--json', 'status', 'opt'])).stdout) as { overlays: [{ mount: { detached: { mountpoint: string; holders: { pid: number }[] } } }] };
      expect(sj.overlays[0].mount.detached).toMatchObject({ mountpoint: target, holders: [{ pid: w.pid }] });
      w.kill('SIGUSR1');
      await exited(w);
      expect(JSON.parse((await cli(root, ['--json', 'status', 'opt'])).stdout).overlays[0].mount.detached).toBeNull();
      // The writer's late output went through the detached overlay into the upper.
      expect(fs.readFileSync(path.join(upper, 'data/db'), 'utf8')).toBe('state\nlate\n');
      written = snapshot(upper);
      const r = await cli(root, ['run', 'opt']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(target, 'data/late-file'), 'utf8')).toBe('late\n');
      expect(fs.readFileSync(path.join(target, 'data/db'), 'utf8')).toBe('state\nlate\n');
    } finally {
      await cli(root, ['unmount', 'opt']);
    }
    assertNothingLost('concurrency', 'unmount --lazy with a writer inside', s.ov.layout, written);
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
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(75);
        expect(first(r.stderr)).toBe(`state-overlay: cannot mount opt on ${opt}: overlay opt-app is mounted on ${app}, below it, and state-overlay overlays do not nest: unmount opt-app first`);
      }
      expect(mountsUnder(root).filter((m) => !m.includes('/run/'))).toEqual([app]);
      expect(await cli(root, ['unmount', 'opt-app'])).toMatchObject({ exitCode: 0, stdout: `unmounted opt-app from ${app}` });
      expect((await cli(root, ['mount', 'opt'])).exitCode).toBe(0);
      for (const args of [['mount', 'opt-app'], ['run', 'opt-app']]) {
        const r = await cli(root, args);
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(75);
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
    expect((await cli(root, ['mount', 'opt'])).exitCode).toBe(6);
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
