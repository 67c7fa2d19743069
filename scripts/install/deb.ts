// The .deb: the install tree plus what Debian's policy asks of a package (the copyright file holding
// every license, the changelog, md5sums), the library dependencies dpkg-shlibdeps reads off the
// executable and the addons, built with dpkg-deb, files owned by root.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { tryRun } from '../../src/exec.js';
import { NOTICES } from './install.js';
import type { PackageMeta } from './package.js';

/** Debian's names of Node's architectures. */
const DEB_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64' };

export function debArch(arch: string = process.arch): string {
  const a = DEB_ARCH[arch];
  if (a === undefined) throw new Error(`no Debian architecture for Node's ${arch}`);
  return a;
}

/** mount(8) and umount(8) come from `mount`; the unit needs systemd, which an image has and a chroot may not. */
const DEPENDS = ['mount'];
const RECOMMENDS = ['systemd'];

function files(root: string, rel = ''): string[] {
  return fs.readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((d) => {
    const r = path.posix.join(rel, d.name);
    return d.isDirectory() ? files(root, r) : [r];
  });
}

/** The shared libraries' packages, as dpkg-shlibdeps finds them for these ELF files. */
async function shlibDepends(root: string, elves: readonly string[]): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(path.dirname(root), 'shlibdeps-'));
  try {
    fs.mkdirSync(path.join(dir, 'debian'));
    fs.writeFileSync(path.join(dir, 'debian/control'), 'Source: state-overlay\n\nPackage: state-overlay\nArchitecture: any\n');
    // The addons leave Node's own symbols (napi_*) to the executable that loads them: nothing to find for those.
    // It reads debian/control from the directory it runs in (env -C: run there).
    const r = await tryRun('env', ['-C', dir, 'dpkg-shlibdeps', '-O', '--warnings=0', ...elves.map((e) => `-e${e}`)], { env: { LC_ALL: 'C' } });
    if (r.exitCode === 127) throw new Error(`dpkg-shlibdeps: not found (Debian's dpkg-dev has it)`);
    if (r.exitCode !== 0) throw new Error(`dpkg-shlibdeps: ${r.stderr.trim()}`);
    const line = r.stdout.split('\n').find((l) => l.startsWith('shlibs:Depends='));
    return line === undefined ? [] : line.slice('shlibs:Depends='.length).split(/,\s*/).filter(Boolean);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** RFC 2822 date of a YYYY-MM-DD, noon UTC, as debian/changelog writes it. */
function changelogDate(date: string): string {
  return new Date(`${date}T12:00:00Z`).toUTCString().replace('GMT', '+0000');
}

/** The control file's Description: the summary, then the long text with each line indented and empty lines as ` .`. */
function controlDescription(m: PackageMeta): string {
  const body = m.description.split('\n').map((l) => (l.trim() === '' ? ' .' : ` ${l}`));
  return [`Description: ${m.summary}`, ...body].join('\n');
}

export function controlFile(m: PackageMeta, arch: string, depends: readonly string[], installedKiB: number): string {
  return `${[
    `Package: ${m.name}`,
    `Version: ${m.version}`,
    `Architecture: ${arch}`,
    `Maintainer: ${m.maintainer}`,
    `Installed-Size: ${installedKiB}`,
    `Depends: ${[...depends, ...DEPENDS].join(', ')}`,
    `Recommends: ${RECOMMENDS.join(', ')}`,
    'Section: admin',
    'Priority: optional',
    controlDescription(m),
  ].join('\n')}\n`;
}

/** debian/copyright: the project's license, then the notices of everything the executable holds. */
function copyrightFile(m: PackageMeta, notices: string): string {
  return `${m.name} ${m.version}\n\n${m.licenseText.trimEnd()}\n\n${notices.trimEnd()}\n`;
}

/** The lintian overrides the package ships, each with its reason, in the checkout. */
export const LINTIAN_OVERRIDES = 'packaging/lintian-overrides';

/** Builds the .deb from the install tree `root` (changed in place) into outDir; returns its path. */
export async function buildDeb(repo: string, root: string, m: PackageMeta, outDir: string): Promise<string> {
  const arch = debArch();
  const doc = path.join(root, 'usr/share/doc', m.name);
  fs.mkdirSync(doc, { recursive: true });
  // Debian keeps licenses in the copyright file, not in /usr/share/licenses.
  const notices = path.join(root, 'usr', NOTICES);
  fs.writeFileSync(path.join(doc, 'copyright'), copyrightFile(m, fs.readFileSync(notices, 'utf8')), { mode: 0o644 });
  fs.rmSync(path.dirname(notices), { recursive: true });
  if (fs.readdirSync(path.join(root, 'usr/share/licenses')).length === 0) fs.rmdirSync(path.join(root, 'usr/share/licenses'));
  const overrides = path.join(root, 'usr/share/lintian/overrides', m.name);
  fs.mkdirSync(path.dirname(overrides), { recursive: true });
  fs.copyFileSync(path.join(repo, LINTIAN_OVERRIDES), overrides);
  fs.chmodSync(overrides, 0o644);
  const changelog = `${m.name} (${m.version}) unstable; urgency=medium\n\n  * ${m.name} ${m.version}.\n\n -- ${m.maintainer}  ${changelogDate(m.date)}\n`;
  fs.writeFileSync(path.join(doc, 'changelog.gz'), zlib.gzipSync(changelog, { level: 9 }), { mode: 0o644 });

  const all = files(root).sort();
  const elves = all.filter((f) => fs.lstatSync(path.join(root, f)).isFile() && fs.readFileSync(path.join(root, f)).subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')));
  const depends = await shlibDepends(root, elves.map((f) => path.join(root, f)));
  const bytes = all.reduce((n, f) => n + fs.lstatSync(path.join(root, f)).size, 0);
  const control = path.join(root, 'DEBIAN');
  fs.mkdirSync(control, { mode: 0o755 });
  fs.writeFileSync(path.join(control, 'control'), controlFile(m, arch, depends, Math.ceil(bytes / 1024)), { mode: 0o644 });
  const sums = all
    .filter((f) => !fs.lstatSync(path.join(root, f)).isSymbolicLink())
    .map((f) => `${crypto.createHash('md5').update(fs.readFileSync(path.join(root, f))).digest('hex')}  ${f}\n`);
  fs.writeFileSync(path.join(control, 'md5sums'), sums.join(''), { mode: 0o644 });

  const deb = path.join(outDir, `${m.name}_${m.version}_${arch}.deb`);
  // gzip: every dpkg reads it, and it packs the executable in seconds where xz takes a minute.
  const r = await tryRun('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, deb]);
  if (r.exitCode !== 0) throw new Error(`dpkg-deb --build: ${r.stderr.trim()}`);
  return deb;
}
