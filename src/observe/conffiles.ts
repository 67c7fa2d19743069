// ConfigFrom=dpkg: the conffiles of the dpkg database shipped in the image, as config-class paths.
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';
import { underRoot } from '../paths/layout.js';

export const DPKG_INFO = '/var/lib/dpkg/info';

/**
 * Parses one `PKG.conffiles` file: an absolute path per line, optionally followed by a flag
 * (`obsolete`, `remove-on-upgrade`). Paths are returned as binary strings (raw bytes), the way the
 * path classifier compares them. Obsolete conffiles no longer belong to the package and are skipped.
 */
export function parseConffiles(bytes: Buffer): string[] {
  const out: string[] = [];
  for (const line of bytes.toString('latin1').split('\n')) {
    // dpkg allows no spaces in conffile names: a space starts the flags.
    const [file, ...flags] = line.trimEnd().split(' ');
    if (!file?.startsWith('/')) continue;
    if (flags.includes('obsolete') || flags.includes('remove-on-upgrade')) continue;
    out.push(file);
  }
  return out;
}

/** Every conffile listed under ROOT/var/lib/dpkg/info; an image without a dpkg database has none. */
export function loadDpkgConffiles(root: string): ReadonlySet<string> {
  const dir = underRoot(root, DPKG_INFO);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw ioError('cannot list the dpkg database', dir, err);
  }
  const set = new Set<string>();
  for (const name of names.filter((n) => n.endsWith('.conffiles')).sort()) {
    const file = path.join(dir, name);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw ioError('cannot read', file, err);
    }
    for (const p of parseConffiles(bytes)) set.add(p);
  }
  return set;
}
