// `npm run package`: the .deb and the .rpm of one install step, clean to lintian and rpmlint, with no
// maintainer scripts; the .deb installed with `dpkg --root` into a scratch root runs with no Node.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINTIAN_OVERRIDES, controlFile } from '../../scripts/install/deb.js';
import { buildPackages, type PackageMeta } from '../../scripts/install/package.js';
import { noNodeEnv } from './no-node.js';

const repo = path.resolve(import.meta.dirname, '../..');
const version = (JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
let scratch: string;
let deb: string;
let rpm: string;

/** What both packages install, but the distribution's own places for licenses and docs. */
const COMMON = [
  'usr/bin/state-overlay',
  'usr/lib/state-overlay/state-overlay',
  'usr/lib/state-overlay/syscalls.node',
  'usr/lib/state-overlay/xattr.node',
  'usr/lib/systemd/system-preset/80-state-overlay.preset',
  'usr/lib/systemd/system/state-overlay@.service',
  'usr/share/bash-completion/completions/state-overlay',
  'usr/share/fish/vendor_completions.d/state-overlay.fish',
  'usr/share/man/man5/state-overlay.conf.5.gz',
  'usr/share/man/man8/state-overlay.8.gz',
  'usr/share/man/man8/state-overlay@.service.8.gz',
  'usr/share/zsh/site-functions/_state-overlay',
];

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'so-package-'));
  [deb, rpm] = (await buildPackages({ repo, out: path.join(scratch, 'out') })) as [string, string];
}, 300_000);
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('the .deb', () => {
  it('is named and built for this machine', () => {
    expect(path.basename(deb)).toBe(`state-overlay_${version}_amd64.deb`);
  });

  it('holds the install step, the copyright file, changelog and lintian overrides, and no maintainer script', async () => {
    const list = (await execa('dpkg-deb', ['-c', deb])).stdout.split('\n').map((l) => l.split(/\s+/)[5]!.replace(/^\.\//, ''));
    const files = list.filter((f) => f !== '' && !f.endsWith('/')).sort();
    expect(files).toEqual(
      [...COMMON, 'usr/share/doc/state-overlay/changelog.gz', 'usr/share/doc/state-overlay/copyright', 'usr/share/lintian/overrides/state-overlay'].sort(),
    );
    const info = (await execa('dpkg-deb', ['-I', deb])).stdout;
    expect(info).not.toMatch(/\b(preinst|postinst|prerm|postrm)\b/);
    const control = (await execa('dpkg-deb', ['-f', deb, 'Depends', 'Recommends', 'Maintainer'])).stdout;
    expect(control).toMatch(/^Depends: libc6 \(>= [\d.]+\), .*libstdc\+\+6 .*, mount$/m);
    expect(control).toMatch(/^Recommends: systemd$/m);
  });

  it('is clean to lintian: no error, no warning (the overrides each give their reason)', async () => {
    const r = await execa('lintian', ['--tag-display-limit', '0', deb], { reject: false, env: { LC_ALL: 'C.UTF-8' } });
    const findings = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(findings).toEqual([]);
    expect(r.exitCode).toBe(0);
    const overrides = fs.readFileSync(path.join(repo, LINTIAN_OVERRIDES), 'utf8').split('\n');
    overrides.forEach((l, i) => {
      if (l.startsWith('state-overlay: ')) expect(overrides.slice(0, i).reverse().find((x) => !x.startsWith('state-overlay: '))).toMatch(/^# \S/);
    });
  }, 300_000);

  it('installs with dpkg --root into a scratch root, runs there with no Node and no node_modules, and removes cleanly', async () => {
    const root = path.join(scratch, 'deb-root');
    for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
    // The scratch root has no libc6 or mount packages to satisfy Depends; the machine's libraries serve.
    await execa('dpkg', ['--root', root, '--force-depends', '--log=/dev/null', '-i', deb]);
    const listed = (await execa('dpkg', ['--root', root, '-L', 'state-overlay'])).stdout.split('\n');
    expect(listed).toContain('/usr/lib/state-overlay/state-overlay');
    for (let d = root; d !== '/'; d = path.dirname(d)) expect(fs.existsSync(path.join(d, 'node_modules'))).toBe(false);
    // Nothing enabled at install: the preset or `systemctl enable` does it.
    expect(fs.existsSync(path.join(root, 'etc/systemd'))).toBe(false);

    const env = noNodeEnv(scratch);
    const exe = path.join(root, 'usr/bin/state-overlay');
    expect((await execa(exe, ['--version'], { env, extendEnv: false, cwd: root })).stdout).toBe(version);
    fs.mkdirSync(path.join(root, 'opt/app'), { recursive: true });
    fs.writeFileSync(path.join(root, 'opt/app/tool'), 'v1\n');
    const index = await execa(exe, ['--root', root, '-q', 'index', 'opt', '--ship'], { env, extendEnv: false, cwd: root });
    expect(index.stdout).toMatch(/opt\.manifest: 2 entries, 3 bytes hashed/);

    await execa('dpkg', ['--root', root, '--log=/dev/null', '-r', 'state-overlay']);
    expect(fs.existsSync(exe)).toBe(false);
    expect(fs.existsSync(path.join(root, 'usr/lib/state-overlay/state-overlay'))).toBe(false);
  }, 120_000);

  it('describes itself in lines lintian accepts', () => {
    const m: PackageMeta = { name: 'p', version: '1.0', summary: 's', description: 'one\n\ntwo', license: 'MIT', maintainer: 'A <a@b.c>', licenseText: '', date: '2026-01-01' };
    expect(controlFile(m, 'amd64', ['libc6'], 7)).toBe(
      'Package: p\nVersion: 1.0\nArchitecture: amd64\nMaintainer: A <a@b.c>\nInstalled-Size: 7\nDepends: libc6, mount\nRecommends: systemd\nSection: admin\nPriority: optional\nDescription: s\n one\n .\n two\n',
    );
  });
});

describe('the .rpm', () => {
  const q = async (...args: string[]) => (await execa('rpm', ['-qp', ...args, rpm])).stdout;

  it('holds the install step with the notices as its license, and no scriptlet', async () => {
    expect(path.basename(rpm)).toBe(`state-overlay-${version}-1.x86_64.rpm`);
    expect((await q('-l')).split('\n').map((f) => f.slice(1))).toEqual(
      [...COMMON, 'usr/lib/state-overlay', 'usr/share/licenses/state-overlay', 'usr/share/licenses/state-overlay/THIRD-PARTY-NOTICES'].sort(),
    );
    expect(await q('-L')).toBe('/usr/share/licenses/state-overlay/THIRD-PARTY-NOTICES');
    expect(await q('--scripts')).toBe('');
  });

  it('requires the C and C++ runtimes and util-linux, never Node, and provides itself', async () => {
    const requires = (await q('--requires')).split('\n');
    expect(requires).toEqual(expect.arrayContaining(['libc.so.6()(64bit)', 'libstdc++.so.6()(64bit)', 'util-linux']));
    expect(requires.filter((r) => /node/i.test(r))).toEqual([]);
    expect((await q('--provides')).split('\n')).toEqual([`state-overlay = ${version}-1`, `state-overlay(x86-64) = ${version}-1`]);
    expect(await q('--recommends')).toBe('systemd');
  });

  it('is clean to rpmlint with the filters in packaging/, each with its reason', async () => {
    const rc = path.join(repo, 'packaging/state-overlay.rpmlintrc');
    const r = await execa('rpmlint', ['-r', rc, rpm], { reject: false });
    expect(r.stdout).toMatch(/\b0 errors, 0 warnings\b/);
    const lines = fs.readFileSync(rc, 'utf8').split('\n');
    lines.forEach((l, i) => {
      if (l.startsWith('addFilter(')) expect(lines.slice(0, i).reverse().find((x) => !x.startsWith('addFilter('))).toMatch(/^# \S/);
    });
  }, 120_000);
});
