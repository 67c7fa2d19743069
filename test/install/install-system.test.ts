import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { ADDON_NAME, CACHE_NAME, PROGRAM_NAME, SYSCALLS_ADDON_NAME, bundle, codeCache, trainedCache, writeBundle } from '../../scripts/install/bundle.js';
import { BUNDLE, CODE_CACHE, LAUNCHER, PROGRAM, installSystem, unitText, type InstallResult, type Layout } from '../../scripts/install/install.js';
import { roffEscape } from '../../scripts/install/manpage.js';
import { bundledPackages, thirdPartyNotices } from '../../scripts/install/notices.js';

const repo = path.resolve(import.meta.dirname, '../..');
let scratch: string;
let dest: string;
let result: InstallResult;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'so-install-'));
  dest = path.join(scratch, 'dest');
  fs.mkdirSync(dest);
  result = await installSystem({ repo, destdir: dest, prefix: '/usr', layout: 'node' });
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

/**
 * Runs f on a scratch root with a one-file /opt, inside an isolated copy of DESTDIR, with the launcher
 * as cli; whatever f leaves mounted is unmounted and the copy removed.
 */
async function withInstalledRoot(f: (t: { iso: string; root: string; cli: (...args: string[]) => ReturnType<typeof execa> }) => Promise<void>): Promise<void> {
  const iso = isolatedCopy();
  const root = path.join(iso, 'root');
  fs.mkdirSync(path.join(root, 'opt/app'), { recursive: true });
  fs.writeFileSync(path.join(root, 'opt/app/tool'), 'v1\n');
  const cli = (...args: string[]) => execa(path.join(iso, 'usr', LAUNCHER), ['--root', root, '-q', ...args], { cwd: iso, env: bareEnv, extendEnv: false });
  try {
    await f({ iso, root, cli });
  } finally {
    await execa('umount', ['-R', path.join(root, 'opt')], { reject: false });
    await execa('umount', ['-R', path.join(root, 'run/state-overlay/opt/base')], { reject: false });
    fs.rmSync(iso, { recursive: true, force: true });
  }
}

describe('installSystem --layout node', () => {
  it('lays down exactly the bundle, addon, launcher, units, preset, man pages and completions', () => {
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
      'usr/share/licenses/state-overlay/THIRD-PARTY-NOTICES',
      'usr/share/zsh/site-functions/_state-overlay',
      'usr/share/fish/vendor_completions.d/state-overlay.fish',
      'usr/share/man/man5/state-overlay.conf.5',
      'usr/share/man/man8/state-overlay.8',
      'usr/share/man/man8/state-overlay@.service.8',
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
    // Trained on a boot: it holds the functions a run called, well beyond the top level compiling alone caches.
    expect(result.warnings).toEqual([]);
    expect(cachedData.length).toBeGreaterThan(2 * codeCache(program).length);
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

  it('runs the commands whose code loads on demand (index, run, status, unmount) with no node_modules around', () =>
    withInstalledRoot(async ({ root, cli }) => {
      expect((await cli('index', 'opt', '--ship')).stdout).toMatch(/: 2 entries, 3 bytes hashed/);
      const run = JSON.parse(String((await cli('--json', 'run', 'opt')).stdout)) as { mounted: boolean; generation: string };
      expect(run).toMatchObject({ mounted: true, generation: expect.stringMatching(/^manifest:[0-9a-f]{64}$/) });
      const status = JSON.parse(String((await cli('--json', 'status', 'opt')).stdout)) as { overlays: { mount: { state: string } }[] };
      expect(status.overlays.map((o) => o.mount.state)).toEqual(['mounted']);
      expect((await cli('unmount', 'opt')).stdout).toBe(`unmounted opt from ${root}/opt`);
    }));

  it('says why a code cache could not be trained, and nothing of the training is left', async () => {
    const b = await bundle(repo, '0.0.0');
    const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('state-overlay-cache-'));
    const t = await trainedCache(b, path.join(scratch, 'no-such-node'));
    expect(t).toEqual({ error: expect.stringMatching(/^the training run failed \(exit status 127\): .*no-such-node/) });
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('state-overlay-cache-'))).toEqual(before);
  });

  it('starts an unchanged base with no process and without loading node:crypto', () =>
    withInstalledRoot(async ({ iso, root, cli }) => {
      // Node's list of the built-in modules it loaded, written at exit by a module loaded before the program.
      const listed = path.join(iso, 'modules.json');
      fs.writeFileSync(path.join(iso, 'list.cjs'), `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(listed)}, JSON.stringify(process.moduleLoadList)));`);
      await cli('index', 'opt', '--ship');
      await cli('run', 'opt');
      await cli('unmount', 'opt');
      const traced = path.join(iso, 'execve.strace');
      await execa('strace', ['-f', '-qq', '-o', traced, '-e', 'trace=execve', process.execPath, '-r', path.join(iso, 'list.cjs'), path.join(iso, 'usr', BUNDLE), '--root', root, '-q', 'run', 'opt'], { cwd: iso, env: bareEnv, extendEnv: false });
      expect(fs.readFileSync(traced, 'utf8').trim().split('\n').filter((l) => / execve\(/.test(l))).toHaveLength(1);
      const modules = JSON.parse(fs.readFileSync(listed, 'utf8')) as string[];
      expect(modules).toContain('NativeModule vm');
      expect(modules.filter((m) => /^NativeModule (crypto|internal\/crypto\/)/.test(m))).toEqual([]);
      expect((await cli('unmount', 'opt')).exitCode).toBe(0);
    }));

  it('ships the license of every package compiled into the bundle', async () => {
    const notices = fs.readFileSync(path.join(dest, 'usr/share/licenses/state-overlay/THIRD-PARTY-NOTICES'), 'utf8');
    const b = await bundle(repo, '0.0.0');
    const names = bundledPackages(repo, b.inputs).map((d) => (JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { name: string }).name);
    expect(names).toEqual(expect.arrayContaining(['commander', 'pino', 'picomatch', 'fs-xattr', 'chokidar']));
    for (const n of names) expect(notices).toMatch(new RegExp(`^${n.replace(/[/.]/g, '\\$&')} \\d+\\.\\d+\\.\\d+\\S* \\((MIT|ISC|BSD-3-Clause)\\)$`, 'm'));
    expect(notices).toContain('Permission is hereby granted');
    expect(notices.split('\n')[0]).toBe('state-overlay is licensed under MIT. Its bundle (program.cjs) and the native addon');
  });

  it('refuses a package without a license file', () => {
    const d = fs.mkdtempSync(path.join(scratch, 'nolicense-'));
    fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0' }));
    expect(() => thirdPartyNotices('MIT', [d])).toThrow(`${d}: no license file in x@1.0.0: it cannot be shipped without one`);
  });

  it('dates the man pages and names the version', () => {
    const version = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version as string;
    for (const page of ['man8/state-overlay.8', 'man5/state-overlay.conf.5', 'man8/state-overlay@.service.8']) {
      const th = fs.readFileSync(path.join(dest, 'usr/share/man', page), 'utf8').split('\n').find((l) => l.startsWith('.TH '));
      expect(th).toMatch(new RegExp(`^\\.TH \\S+ [58] "\\d{4}-\\d\\d-\\d\\d" "state\\\\-overlay ${version.replace(/\./g, '\\.')}" "[A-Z][a-z]+ [A-Z][a-z]+"$`));
    }
  });

  it.each([
    [{ prefix: 'usr' }, '--prefix usr: expected an absolute path without ..'],
    [{ prefix: '/usr/../etc' }, '--prefix /usr/../etc: expected an absolute path without ..'],
    [{ prefix: '/usr', layout: 'tarball' as Layout }, '--layout tarball: expected sea or node'],
  ])('refuses %j and writes nothing', async (bad, message) => {
    const d = fs.mkdtempSync(path.join(scratch, 'bad-'));
    await expect(installSystem({ repo, destdir: d, ...bad })).rejects.toThrow(message);
    expect(fs.readdirSync(d)).toEqual([]);
  });
});

describe('--destdir', () => {
  it('is created when missing', async () => {
    const d = path.join(scratch, 'new', 'dest');
    const r = await installSystem({ repo, destdir: d, prefix: '/usr', date: '2026-01-01', layout: 'node' });
    expect(tree(d).sort()).toEqual(r.files);
  });

  it('takes another version than package.json: the program and the man pages report it', async () => {
    const d = path.join(scratch, 'versioned');
    await installSystem({ repo, destdir: d, prefix: '/usr', date: '2026-01-01', layout: 'node', version: '0.1.0+1' });
    expect((await execa(path.join(d, 'usr', LAUNCHER), ['--version'], { env: bareEnv, extendEnv: false })).stdout).toBe('0.1.0+1');
    const th = fs.readFileSync(path.join(d, 'usr/share/man/man8/state-overlay.8'), 'utf8').split('\n').find((l) => l.startsWith('.TH '));
    expect(th).toContain('"state\\-overlay 0.1.0+1"');
  });

  it('is refused when it is a file, and nothing is written', async () => {
    const f = path.join(scratch, 'a-file');
    fs.writeFileSync(f, '');
    await expect(installSystem({ repo, destdir: f, prefix: '/usr' })).rejects.toThrow(`--destdir ${f}: not a directory`);
    expect(fs.readFileSync(f, 'utf8')).toBe('');
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
    ['--dry-run', '\\-\\-dry\\-run'],
    ['.TH x\n\'y\nz.', '\\&.TH x\n\\&\'y\nz.'],
  ])('roffEscape(%j)', (input, out) => expect(roffEscape(input)).toBe(out));

  it.each([
    ['/usr', 'ExecStart=/usr/bin/state-overlay run %i', 'ExecStart=/usr/bin/state-overlay run %i'],
    ['/usr/local', 'ExecStart=/usr/bin/state-overlay run %i', 'ExecStart=/usr/local/bin/state-overlay run %i'],
  ])('unitText for prefix %s', (prefix, input, out) => expect(unitText(input, prefix)).toBe(out));
});
