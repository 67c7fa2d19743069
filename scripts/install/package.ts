// Builds the distribution packages from one run of the install step (the single executable under
// /usr): a .deb with dpkg-deb and an .rpm with rpmbuild. Neither has a maintainer script: nothing is
// enabled or started at install; the preset, `systemctl enable` or `systemctl preset-all` do that.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { buildDeb } from './deb.js';
import { installSystem, manDate } from './install.js';
import { buildRpm } from './rpm.js';

export const FORMATS = ['deb', 'rpm'] as const;
export type Format = (typeof FORMATS)[number];

export interface PackageOptions {
  readonly repo: string;
  /** Where the packages go (created when missing). */
  readonly out: string;
  readonly formats?: readonly Format[];
  /** The Node binary the single executable is made from; default: the running one. */
  readonly node?: string;
  /** The packages' version and the program's (`--version`); default: package.json's. */
  readonly version?: string;
  /** Receives what the install step could not do as well as it should; default: printed on stderr. */
  readonly warn?: (message: string) => void;
}

/** What both packages say about themselves. */
export interface PackageMeta {
  readonly name: string;
  readonly version: string;
  readonly summary: string;
  /** The long description, paragraphs of plain text. */
  readonly description: string;
  readonly license: string;
  /** `Name <address>` (package.json's author). */
  readonly maintainer: string;
  /** The checkout's LICENSE: the project's own license text. */
  readonly licenseText: string;
  /** YYYY-MM-DD, reproducible (as the man pages'). */
  readonly date: string;
}

export const DESCRIPTION = `state-overlay makes image-shipped directories such as /opt and
/usr/local writable on an image-based host with an overlayfs overlay, and
reconciles the host's changes with the image's new content when an update
changes it: a decision table, a journaled transaction, and a backup set
for everything it removes. Its systemd unit, state-overlay@.service,
mounts the overlay at boot; a preset enables it for /opt.

The program is one executable holding the Node.js runtime; it needs no
Node.js installed.`;

/** Paths relative to the install root (DESTDIR, prefix /usr) the packages carry, sorted. */
function installed(root: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(root, rel), { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? installed(root, path.posix.join(rel, d.name)) : [path.posix.join(rel, d.name)]))
    .sort();
}

/** Man pages go compressed (both distributions' rule); gzip without a name or time, so the same pages give the same bytes. */
function compressManPages(root: string): void {
  for (const f of installed(root).filter((f) => f.startsWith('usr/share/man/') && !f.endsWith('.gz'))) {
    const file = path.join(root, f);
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(fs.readFileSync(file), { level: 9 }), { mode: 0o644 });
    fs.rmSync(file);
  }
}

function meta(repo: string, date: string, version: string | undefined): PackageMeta {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string; description: string; license: string; author?: string };
  if (pkg.author === undefined || !/^[^<>]+ <[^<>@\s]+@[^<>\s]+>$/.test(pkg.author)) {
    throw new Error(`${path.join(repo, 'package.json')}: author ${JSON.stringify(pkg.author ?? null)}: expected "Name <address>" (the packages' maintainer)`);
  }
  const summary = pkg.description.charAt(0).toLowerCase() + pkg.description.slice(1);
  return { name: pkg.name, version: version ?? pkg.version, summary, description: DESCRIPTION, license: pkg.license, maintainer: pkg.author, licenseText: fs.readFileSync(path.join(repo, 'LICENSE'), 'utf8'), date };
}

/** Builds the packages; returns their paths. */
export async function buildPackages(o: PackageOptions): Promise<string[]> {
  const formats = o.formats ?? FORMATS;
  const m = meta(o.repo, await manDate(o.repo), o.version);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'state-overlay-package-'));
  try {
    const root = path.join(work, 'root');
    const r = await installSystem({ repo: o.repo, destdir: root, prefix: '/usr', date: m.date, version: m.version, ...(o.node === undefined ? {} : { node: o.node }) });
    for (const w of r.warnings) (o.warn ?? ((x) => process.stderr.write(`package: warning: ${x}\n`)))(w);
    compressManPages(root);
    fs.mkdirSync(o.out, { recursive: true });
    const made: string[] = [];
    for (const f of formats) {
      const tree = path.join(work, f);
      fs.cpSync(root, tree, { recursive: true, verbatimSymlinks: true });
      made.push(f === 'deb' ? await buildDeb(o.repo, tree, m, o.out) : await buildRpm(tree, installed(tree), m, o.out, path.join(work, 'rpmbuild')));
    }
    return made;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
