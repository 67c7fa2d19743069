// The dpkg database of an image: its conffiles (var/lib/dpkg/info/*.conffiles) and the obsolete ones
// the status file still lists, as package classes.
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';
import type { PackageClass } from '../model/package-class.js';
import { underRoot } from '../paths/layout.js';

export const DPKG_DIR = '/var/lib/dpkg';
export const DPKG_INFO = `${DPKG_DIR}/info`;

/**
 * Parses one `PKG.conffiles` file: an absolute path per line, optionally followed by a flag
 * (`obsolete`, `remove-on-upgrade`). Paths are returned as binary strings (raw bytes), the way the
 * path classifier compares them. An entry to be removed on upgrade no longer belongs to the package.
 */
export function parseConffiles(bytes: Buffer): Array<{ path: string; obsolete: boolean }> {
  const out: Array<{ path: string; obsolete: boolean }> = [];
  for (const line of bytes.toString('latin1').split('\n')) {
    // dpkg allows no spaces in conffile names: a space starts the flags.
    const [file, ...flags] = line.trimEnd().split(' ');
    if (!file?.startsWith('/') || flags.includes('remove-on-upgrade')) continue;
    out.push({ path: file, obsolete: flags.includes('obsolete') });
  }
  return out;
}

/**
 * The obsolete conffiles of the status file (`Conffiles:` lines ` PATH MD5 obsolete`): conffiles of an
 * earlier version that dpkg keeps on disk after an upgrade dropped them, by package.
 */
export function parseStatusObsolete(bytes: Buffer): Array<{ pkg: string; path: string }> {
  const out: Array<{ pkg: string; path: string }> = [];
  let pkg = '';
  let inConffiles = false;
  for (const line of bytes.toString('latin1').split('\n')) {
    if (line.startsWith(' ') && inConffiles) {
      const [file, , ...flags] = line.trim().split(' ');
      if (file?.startsWith('/') && flags.includes('obsolete')) out.push({ pkg, path: file });
      continue;
    }
    inConffiles = line.startsWith('Conffiles:');
    if (line.startsWith('Package:')) pkg = line.slice('Package:'.length).trim();
    if (line === '') pkg = '';
  }
  return out;
}

const readOrNull = (file: string): Buffer | null => {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError('cannot read', file, err);
  }
};

/** Whether ROOT has a dpkg database. */
export const hasDpkgDb = (root: string): boolean => fs.existsSync(underRoot(root, DPKG_INFO));

/** Every conffile of the dpkg database under ROOT (absolute binary-string paths); an image without one has none. */
export function loadDpkgClasses(root: string): Map<string, PackageClass> {
  const dir = underRoot(root, DPKG_INFO);
  const out = new Map<string, PackageClass>();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw ioError('cannot list the dpkg database', dir, err);
  }
  const conffile = (pkg: string, obsolete: boolean): PackageClass => ({ db: 'dpkg', pkg, config: true, noreplace: false, missingok: false, ghost: false, obsolete });
  for (const name of names.filter((n) => n.endsWith('.conffiles')).sort()) {
    // PKG.conffiles or PKG:ARCH.conffiles (multi-arch).
    const pkg = name.slice(0, -'.conffiles'.length).split(':')[0]!;
    for (const c of parseConffiles(readOrNull(path.join(dir, name)) ?? Buffer.alloc(0))) {
      if (!out.get(c.path) || out.get(c.path)!.obsolete) out.set(c.path, conffile(pkg, c.obsolete));
    }
  }
  const status = readOrNull(underRoot(root, `${DPKG_DIR}/status`));
  for (const o of status ? parseStatusObsolete(status) : []) if (!out.has(o.path)) out.set(o.path, conffile(o.pkg, true));
  return out;
}
