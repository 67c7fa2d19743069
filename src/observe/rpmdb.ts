// The rpm database of an image: each file's flags (%config, noreplace, missingok, %ghost), read with
// `rpm --root`, as package classes.
import fs from 'node:fs';
import { StateOverlayError } from '../errors.js';
import { run } from '../exec.js';
import type { PackageClass } from '../model/package-class.js';
import { underRoot } from '../paths/layout.js';

/** Where images keep the rpm database: Fedora and bootc, classic systems, ostree. */
export const RPM_DBPATHS = ['/usr/lib/sysimage/rpm', '/var/lib/rpm', '/usr/share/rpm'] as const;
const DB_FILES = ['rpmdb.sqlite', 'Packages', 'Packages.db'];

/** The database path under ROOT (as rpm's --dbpath, relative to the root), or undefined. */
export function rpmDbPath(root: string): string | undefined {
  return RPM_DBPATHS.find((d) => DB_FILES.some((f) => fs.existsSync(underRoot(root, `${d}/${f}`))));
}

export const RPM_QUERY = '[%{FILEFLAGS:fflags}\\t%{=NAME}\\t%{FILENAMES}\\n]';

/**
 * Parses `rpm -qa --qf` output in RPM_QUERY's shape (binary string): flags letters (c config, n
 * noreplace, m missingok, g ghost), package, path. Files without any of those flags are left out.
 */
export function parseRpmFiles(text: string): Array<[string, PackageClass]> {
  const out: Array<[string, PackageClass]> = [];
  for (const line of text.split('\n')) {
    const [flags, pkg, file] = line.split('\t');
    if (flags === undefined || pkg === undefined || !file?.startsWith('/')) continue;
    const has = (c: string) => flags.includes(c);
    if (!has('c') && !has('g')) continue;
    out.push([file, { db: 'rpm', pkg, config: has('c'), noreplace: has('n'), missingok: has('m'), ghost: has('g'), obsolete: false }]);
  }
  return out;
}

/** The classed files of the rpm database under ROOT (absolute binary-string paths); none without a database. */
export async function loadRpmClasses(root: string): Promise<Map<string, PackageClass>> {
  const dbpath = rpmDbPath(root);
  if (dbpath === undefined) return new Map();
  try {
    const r = await run('rpm', ['--root', root, '--dbpath', dbpath, '-qa', '--qf', RPM_QUERY], { stdoutEncoding: 'latin1' });
    return new Map(parseRpmFiles(r.stdout));
  } catch (err) {
    throw new StateOverlayError('exec', `cannot read the rpm database ${underRoot(root, dbpath)}`, { path: underRoot(root, dbpath), cause: err });
  }
}
