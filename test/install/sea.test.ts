// The single executable, as the default install step lays it down: run with no Node on PATH and no
// node_modules anywhere, through a whole mount → reconcile → restore cycle on a scratch overlay.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON_NAME, SYSCALLS_ADDON_NAME } from '../../scripts/install/bundle.js';
import { LAUNCHER, NOTICES, SEA, installSystem, type InstallResult } from '../../scripts/install/install.js';
import { SEA_FUSE, buildSea } from '../../scripts/install/sea.js';
import { noNodeEnv } from './no-node.js';

const repo = path.resolve(import.meta.dirname, '../..');
const version = (JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
let scratch: string;
let dest: string;
let result: InstallResult;
let env: Record<string, string>;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'so-sea-'));
  dest = path.join(scratch, 'dest');
  result = await installSystem({ repo, destdir: dest, prefix: '/usr' });
  env = noNodeEnv(scratch);
}, 120_000);
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const so = (root: string, ...args: string[]) => execa(path.join(dest, 'usr', LAUNCHER), ['--root', root, '-q', ...args], { cwd: scratch, env, extendEnv: false });

describe('the single executable', () => {
  it('is the default layout: one ELF with the addons beside it, the launcher a link to it', () => {
    const lib = result.files.filter((f) => f.startsWith('usr/lib/state-overlay/'));
    expect(lib).toEqual([`usr/${SEA}`, `usr/lib/state-overlay/${SYSCALLS_ADDON_NAME}`, `usr/lib/state-overlay/${ADDON_NAME}`]);
    expect(fs.readlinkSync(path.join(dest, 'usr', LAUNCHER))).toBe('../lib/state-overlay/state-overlay');
    const exe = fs.readFileSync(path.join(dest, 'usr', SEA));
    expect(exe.subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
    expect(fs.statSync(path.join(dest, 'usr', SEA)).mode & 0o777).toBe(0o755);
    // The fuse is flipped: Node runs the injected program, not its command line.
    expect(exe.includes(`${SEA_FUSE}:1`)).toBe(true);
  });

  it('ships the license of the Node it holds, before the bundled packages', () => {
    const notices = fs.readFileSync(path.join(dest, 'usr', NOTICES), 'utf8');
    expect(notices.split('\n').slice(0, 3)).toEqual([
      'state-overlay is licensed under MIT. Its executable (a Node.js single executable) and',
      'the native addon beside it (xattr.node) contain Node.js and the following packages, each under',
      'its own license.',
    ]);
    expect(notices).toContain(`\nNode.js ${process.versions.node} (MIT and others, below)\n`);
    expect(notices.indexOf('Node.js is licensed for use as follows:')).toBeGreaterThan(0);
    expect(notices.indexOf('\ncommander ')).toBeGreaterThan(notices.indexOf('\nNode.js '));
  });

  it('runs --version and --help with no Node on PATH and nothing on stderr', async () => {
    const which = await execa('sh', ['-c', 'command -v node'], { env, extendEnv: false, reject: false });
    expect([which.exitCode, which.stdout]).toEqual([127, '']);
    const v = await execa(path.join(dest, 'usr', LAUNCHER), ['--version'], { cwd: scratch, env, extendEnv: false });
    expect([v.stdout, v.stderr]).toEqual([version, '']);
    const h = await execa(path.join(dest, 'usr', LAUNCHER), ['--help'], { cwd: scratch, env, extendEnv: false });
    expect(h.stdout).toMatch(/^Usage: state-overlay \[options\] \[command\]\n/);
    expect(h.stderr).toBe('');
  });

  it('mounts, reconciles an update with a backup, restores from it and indexes (hash pool)', async () => {
    const root = path.join(scratch, 'root');
    const tool = path.join(root, 'opt/app/bin/tool');
    fs.mkdirSync(path.dirname(tool), { recursive: true });
    fs.writeFileSync(tool, 'v1\n');
    try {
      expect((await so(root, 'run', 'opt')).stdout).toMatch(/^mounted opt on .*\/opt; after a reconcile; generation tree:/);
      fs.writeFileSync(tool, 'local\n');
      await so(root, 'unmount', 'opt');
      fs.writeFileSync(tool, 'v2\n');
      await so(root, 'run', 'opt');
      expect(fs.readFileSync(tool, 'utf8')).toBe('v2\n');
      await so(root, 'unmount', 'opt');
      const sets = JSON.parse((await so(root, '--json', 'backups', 'opt')).stdout) as { kind: string; sets: { set: string; entries: { path: string }[] }[] };
      expect(sets.kind).toBe('BackupSets');
      expect(sets.sets.map((s) => s.entries.map((e) => e.path))).toEqual([['app/bin/tool']]);
      expect((await so(root, 'restore', 'opt', sets.sets[0]!.set, 'app/bin/tool')).stdout).toContain('restored /opt/app/bin/tool');
      await so(root, 'run', 'opt');
      expect(fs.readFileSync(tool, 'utf8')).toBe('local\n');
      await so(root, 'unmount', 'opt');
      expect((await so(root, 'index', 'opt', '--ship')).stdout).toMatch(/opt\.manifest: 3 entries, 3 bytes hashed/);
    } finally {
      await execa('umount', ['-R', path.join(root, 'opt')], { reject: false });
      await execa('umount', ['-R', path.join(root, 'run/state-overlay/opt/base')], { reject: false });
    }
  });

  it('writes readable logs on a terminal (pino-pretty, bundled)', async () => {
    const root = path.join(scratch, 'tty-root');
    fs.mkdirSync(path.join(root, 'opt/app'), { recursive: true });
    try {
      const cmd = `${path.join(dest, 'usr', LAUNCHER)} --root ${root} run opt`;
      const r = await execa('script', ['-qec', cmd, '/dev/null'], { env, extendEnv: false });
      expect(r.stdout).toMatch(/INFO.*\(opt\).*mount\.done/);
      expect(r.stdout).not.toContain('"level":');
    } finally {
      await execa('umount', ['-R', path.join(root, 'opt')], { reject: false });
      await execa('umount', ['-R', path.join(root, 'run/state-overlay/opt/base')], { reject: false });
    }
  });

  it('refuses a Node without the fuse (a shared libnode build), naming it', async () => {
    const fake = path.join(scratch, 'fake-node');
    fs.writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
    await expect(buildSea({ program: '(function(){})', node: fake, out: path.join(scratch, 'x') })).rejects.toThrow(
      `${fake}: this Node cannot make a single executable (no ${SEA_FUSE} in it: a build with a shared libnode); use an official Node build (--node PATH) or --layout node`,
    );
    expect(fs.existsSync(path.join(scratch, 'x'))).toBe(false);
  });
});
