// dpkg in scratch roots for the oracle tests: an empty database, dpkg itself, an image of one package,
// a real package repacked without its maintainer scripts.
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../src/exec.js';
import { shipImage, type Image } from './oracle.js';

/** A root with an empty dpkg database. */
export function dpkgRoot(root: string): string {
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['var/lib/dpkg/status', 'var/lib/dpkg/available']) fs.writeFileSync(path.join(root, f), '');
  return root;
}

export const dpkg = (root: string, ...args: string[]) => run('dpkg', [`--root=${root}`, '--log=/dev/null', '--force-depends', ...args]);

/** The image of one package: installed by dpkg into an empty root, indexed for shipping with the classes of its database. */
export async function dpkgImage(root: string, deb: string, mount: string): Promise<Image> {
  await dpkg(dpkgRoot(root), '-i', deb);
  return shipImage(root, mount, 'dpkg');
}

/**
 * A .deb repacked into dir without its maintainer scripts and triggers: dpkg --root runs those chrooted
 * into a root that holds nothing but the package (no shell, none of their dependencies). Its files and
 * conffiles lists stay the archive's, byte for byte.
 */
export async function repack(deb: string, dir: string): Promise<string> {
  const src = path.join(dir, `src-${path.basename(deb, '.deb')}`);
  await run('dpkg-deb', ['-R', deb, src]);
  for (const f of ['preinst', 'postinst', 'prerm', 'postrm', 'config', 'templates', 'triggers']) fs.rmSync(path.join(src, 'DEBIAN', f), { force: true });
  const out = path.join(dir, path.basename(deb));
  await run('dpkg-deb', ['--root-owner-group', '--build', src, out]);
  return out;
}

/** A toy package only a new base has (so-base-extra 1.0, one data file), built with dpkg-deb in dir. */
export async function toyDeb(dir: string): Promise<string> {
  const src = path.join(dir, 'so-base-extra');
  fs.mkdirSync(path.join(src, 'DEBIAN'), { recursive: true });
  fs.mkdirSync(path.join(src, 'usr/share/so-base-extra'), { recursive: true });
  fs.writeFileSync(path.join(src, 'usr/share/so-base-extra/data'), 'base data\n');
  fs.writeFileSync(path.join(src, 'DEBIAN/control'), 'Package: so-base-extra\nVersion: 1.0\nArchitecture: all\nMaintainer: Test <test@example.org>\nDescription: a package only the new base has\n');
  const deb = path.join(dir, 'so-base-extra_1.0_all.deb');
  await run('dpkg-deb', ['--root-owner-group', '--build', src, deb]);
  return deb;
}
