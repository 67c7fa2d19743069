import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { ADDON_NAME, CACHE_NAME, PROGRAM_NAME, SYSCALLS_ADDON_NAME, bundle, writeBundle } from '../../scripts/install/bundle.js';
import { bashCompletion } from '../../scripts/install/completion.js';
import type { HelpTree } from '../../scripts/install/help-tree.js';
import { BUNDLE, CODE_CACHE, LAUNCHER, PROGRAM, installSystem, unitText, type InstallResult } from '../../scripts/install/install.js';
import { manPage, roffEscape } from '../../scripts/install/manpage.js';

const repo = path.resolve(import.meta.dirname, '../..');
let scratch: string;
let dest: string;
let result: InstallResult;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'so-install-'));
  dest = path.join(scratch, 'dest');
  fs.mkdirSync(dest);
  result = await installSystem({ repo, destdir: dest, prefix: '/usr' });
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function tree(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
    const r = path.posix.join(rel, d.name);
    return d.isDirectory() ? tree(dir, r) : [r];
  });
}

/** A copy of DESTDIR in a directory with no node_modules anywhere above it. */
function isolatedCopy(): string {
  const iso = fs.mkdtempSync(path.join(os.tmpdir(), 'so-iso-'));
  fs.cpSync(dest, iso, { recursive: true, verbatimSymlinks: true });
  for (let d = iso; d !== '/'; d = path.dirname(d)) expect(fs.existsSync(path.join(d, 'node_modules'))).toBe(false);
  return iso;
}

const bareEnv = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: '/nonexistent' };

describe('installSystem', () => {
  it('lays down exactly the bundle, addon, launcher, units, preset, man page and completion', () => {
    const units = fs.existsSync(path.join(repo, 'units')) ? fs.readdirSync(path.join(repo, 'units')).filter((f) => f.endsWith('.service')) : [];
    const expected = [
      'usr/bin/state-overlay',
      'usr/lib/state-overlay/state-overlay.cjs',
      `usr/lib/state-overlay/${PROGRAM_NAME}`,
      `usr/lib/state-overlay/${CACHE_NAME}`,
      `usr/lib/state-overlay/${ADDON_NAME}`,
      `usr/lib/state-overlay/${SYSCALLS_ADDON_NAME}`,
      'usr/lib/systemd/system-preset/80-state-overlay.preset',
      'usr/share/bash-completion/completions/state-overlay',
      'usr/share/man/man8/state-overlay.8',
      ...units.map((u) => `usr/lib/systemd/system/${u}`),
    ].sort();
    expect(tree(dest).sort()).toEqual(expected);
    expect(result.files).toEqual(expected);
    expect(result.addons).toEqual([ADDON_NAME, SYSCALLS_ADDON_NAME]);
    expect(fs.readlinkSync(path.join(dest, 'usr', LAUNCHER))).toBe('../lib/state-overlay/state-overlay.cjs');
    expect(fs.statSync(path.join(dest, 'usr', BUNDLE)).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(path.join(dest, 'usr', BUNDLE), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('runs --help through the launcher with no node_modules around', async () => {
    const iso = isolatedCopy();
    try {
      const r = await execa(path.join(iso, 'usr', LAUNCHER), ['--help'], { cwd: iso, env: bareEnv, extendEnv: false, reject: false });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^Usage: state-overlay \[options\] \[command\]\n/);
      expect(r.stdout).toContain('Exit codes:');
      const v = await execa(path.join(iso, 'usr', LAUNCHER), ['--version'], { cwd: iso, env: bareEnv, extendEnv: false });
      expect(v.stdout).toBe(JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version);
    } finally {
      fs.rmSync(iso, { recursive: true, force: true });
    }
  });

  it('ships a code cache this Node accepts for the program, and runs without it or with a foreign one', async () => {
    const program = fs.readFileSync(path.join(dest, 'usr', PROGRAM), 'utf8');
    const cachedData = fs.readFileSync(path.join(dest, 'usr', CODE_CACHE));
    expect(new vm.Script(program, { cachedData }).cachedDataRejected).toBe(false);
    const iso = isolatedCopy();
    try {
      const version = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version as string;
      fs.writeFileSync(path.join(iso, 'usr', CODE_CACHE), 'not a code cache');
      expect((await execa(path.join(iso, 'usr', LAUNCHER), ['--version'], { cwd: iso, env: bareEnv, extendEnv: false })).stdout).toBe(version);
      fs.rmSync(path.join(iso, 'usr', CODE_CACHE));
      expect((await execa(path.join(iso, 'usr', LAUNCHER), ['--version'], { cwd: iso, env: bareEnv, extendEnv: false })).stdout).toBe(version);
    } finally {
      fs.rmSync(iso, { recursive: true, force: true });
    }
  });

  it('runs the commands whose code loads on demand (index, run, status, unmount) with no node_modules around', async () => {
    const iso = isolatedCopy();
    const root = path.join(iso, 'root');
    fs.mkdirSync(path.join(root, 'opt/app'), { recursive: true });
    fs.writeFileSync(path.join(root, 'opt/app/tool'), 'v1\n');
    const cli = (...args: string[]) => execa(path.join(iso, 'usr', LAUNCHER), ['--root', root, '-q', ...args], { cwd: iso, env: bareEnv, extendEnv: false });
    try {
      expect((await cli('index', 'opt', '--ship')).stdout).toMatch(/: 2 entries, 3 bytes hashed/);
      const run = JSON.parse((await cli('--json', 'run', 'opt')).stdout) as { mounted: boolean; generation: string };
      expect(run).toMatchObject({ mounted: true, generation: expect.stringMatching(/^manifest:[0-9a-f]{64}$/) });
      const status = JSON.parse((await cli('--json', 'status', 'opt')).stdout) as { overlays: { mount: { state: string } }[] };
      expect(status.overlays.map((o) => o.mount.state)).toEqual(['mounted']);
      expect((await cli('unmount', 'opt')).stdout).toBe(`unmounted opt from ${root}/opt`);
    } finally {
      await execa('umount', ['-R', path.join(root, 'opt')], { reject: false });
      await execa('umount', ['-R', path.join(root, 'run/state-overlay/opt/base')], { reject: false });
      fs.rmSync(iso, { recursive: true, force: true });
    }
  });

  it('documents every command in the man page and the completion', () => {
    const man = fs.readFileSync(path.join(dest, 'usr/share/man/man8/state-overlay.8'), 'utf8');
    const completion = fs.readFileSync(path.join(dest, 'usr/share/bash-completion/completions/state-overlay'), 'utf8');
    expect(man.split('\n')[0]).toMatch(/^\.TH STATE-OVERLAY 8 "" "state-overlay \d+\.\d+\.\d+" "System Administration"$/);
    expect(man).toContain('.SS "config"\n.nf\nUsage: state-overlay config [options] <NAME>\n');
    expect(completion).toContain('config) opts="--help"; takes=1 ;;');
  });

  it.each([
    [{ prefix: 'usr' }, '--prefix usr: expected an absolute path without ..'],
    [{ prefix: '/usr/../etc' }, '--prefix /usr/../etc: expected an absolute path without ..'],
    [{ destdir: '/nonexistent/dest' }, '--destdir /nonexistent/dest: not a directory'],
  ])('refuses %j and writes nothing', async (bad, message) => {
    const d = fs.mkdtempSync(path.join(scratch, 'bad-'));
    await expect(installSystem({ repo, destdir: d, prefix: '/usr', ...bad })).rejects.toThrow(message);
    expect(fs.readdirSync(d)).toEqual([]);
  });
});

describe('the native addons beside the bundle', () => {
  const probes = [
    {
      addon: ADDON_NAME,
      source: `import { getAttributeSync } from 'fs-xattr';
try { getAttributeSync(process.argv[2], 'user.state-overlay-probe'); } catch (e) { console.log((e as NodeJS.ErrnoException).code); }`,
      prints: 'ENODATA',
    },
    {
      addon: SYSCALLS_ADDON_NAME,
      source: `import fs from 'node:fs';
import { flock } from './src/native/syscalls.js';
console.log(flock(fs.openSync(process.argv[2], 'r'), 'exclusive'));`,
      prints: 'true',
    },
  ];

  it.each(probes)('$addon is loaded from the install directory, and only from there', async ({ addon, source, prints }) => {
    const b = await bundle(repo, '0.0.0', source);
    expect(b.addons.map((a) => a.name)).toEqual([addon]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-addon-'));
    try {
      const entry = writeBundle(b, dir);
      fs.rmSync(path.join(dir, addon));
      const without = await execa(process.execPath, [entry, dir], { cwd: dir, env: bareEnv, extendEnv: false, reject: false });
      expect(without.exitCode).not.toBe(0);
      expect(without.stderr).toContain(`Cannot find module '${dir}/${addon}'`);
      fs.copyFileSync(b.addons[0]!.path, path.join(dir, addon));
      const withAddon = await execa(process.execPath, [entry, dir], { cwd: dir, env: bareEnv, extendEnv: false });
      expect(withAddon.stdout).toBe(prints);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('renderers', () => {
  it.each([
    ['plain', 'plain'],
    ['a\\b', 'a\\eb'],
    ['.TH x\n\'y\nz.', '\\&.TH x\n\\&\'y\nz.'],
  ])('roffEscape(%j)', (input, out) => expect(roffEscape(input)).toBe(out));

  it.each([
    ['/usr', 'ExecStart=/usr/bin/state-overlay run %i', 'ExecStart=/usr/bin/state-overlay run %i'],
    ['/usr/local', 'ExecStart=/usr/bin/state-overlay run %i', 'ExecStart=/usr/local/bin/state-overlay run %i'],
  ])('unitText for prefix %s', (prefix, input, out) => expect(unitText(input, prefix)).toBe(out));

  const help: HelpTree = {
    version: '1.2.3',
    program: { name: 'state-overlay', description: 'd', options: ['--root', '--json', '--help'], args: 0, help: 'Usage: x' },
    commands: [
      { name: 'reconcile', description: 'r', options: ['--dry-run', '--help'], args: 1, help: 'Usage: r' },
      { name: 'status', description: 's', options: ['--help'], args: 1, help: '.starts with a dot' },
    ],
  };

  it('man page keeps help text verbatim and escaped', () => {
    expect(manPage(help, '2026-01-01')).toContain('.SS "status"\n.nf\n\\&.starts with a dot\n.fi\n');
  });

  it.each([
    ['state-overlay re', 'reconcile'],
    ['state-overlay --j', '--json'],
    ['state-overlay --root /x reconcile --d', '--dry-run'],
    ['state-overlay st', 'status'],
  ])('bash completes %j to %s', async (line, want) => {
    const script = `${bashCompletion(help)}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _state_overlay; echo "\${COMPREPLY[*]}"`;
    const r = await execa('bash', ['-c', script]);
    expect(r.stdout).toBe(want);
  });
});
