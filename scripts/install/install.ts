// Lays the program down the way an image build or a package would: a self-contained bundle (entry,
// program, code cache), its native addons, the launcher, the units, a preset, the man page and bash completion, under DESTDIR/PREFIX.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildProgram } from '../../src/cli/program.js';
import { StateOverlayError } from '../../src/errors.js';
import { CACHE_NAME, ENTRY_NAME, PROGRAM_NAME, bundle, writeBundle } from './bundle.js';
import { bashCompletion } from './completion.js';
import { helpTree } from './help-tree.js';
import { manPage } from './manpage.js';

export interface InstallOptions {
  /** The project checkout to build from. */
  readonly repo: string;
  /** Staging root the files go under (`/` for the running system). */
  readonly destdir: string;
  /** Absolute install prefix as the target system sees it (`/usr`). */
  readonly prefix: string;
  /** Man page date (`SOURCE_DATE_EPOCH` style reproducibility: empty by default). */
  readonly date?: string;
}

export interface InstallResult {
  /** Installed paths relative to DESTDIR, sorted. */
  readonly files: readonly string[];
  /** File names of the native addons installed beside the bundle, which the program loads from there. */
  readonly addons: readonly string[];
}

/** Paths relative to PREFIX. */
export const LIB_DIR = 'lib/state-overlay';
/** The entry the launcher points at; it runs PROGRAM with its code cache CODE_CACHE. */
export const BUNDLE = `${LIB_DIR}/${ENTRY_NAME}`;
export const PROGRAM = `${LIB_DIR}/${PROGRAM_NAME}`;
export const CODE_CACHE = `${LIB_DIR}/${CACHE_NAME}`;
export const LAUNCHER = 'bin/state-overlay';
export const UNIT_DIR = 'lib/systemd/system';
export const PRESET = 'lib/systemd/system-preset/80-state-overlay.preset';
export const MAN_PAGE = 'share/man/man8/state-overlay.8';
export const COMPLETION = 'share/bash-completion/completions/state-overlay';

const UNIT_SUFFIX = /\.(service|socket|target|path|timer|mount)$/;

/** The preset an image build applies with `systemctl preset-all`: /opt follows the image. */
export const PRESET_TEXT = `# state-overlay: make the image-shipped /opt writable and reconcile it on OS updates.
# Other directories: systemctl enable state-overlay@NAME.service (NAME = systemd-escape --path DIR).
enable state-overlay@.service opt
`;

/** Units name the launcher by its /usr path; another prefix gets its own. */
export function unitText(text: string, prefix: string): string {
  return prefix === '/usr' ? text : text.replaceAll('/usr/bin/state-overlay', path.posix.join(prefix, LAUNCHER));
}

function checkOptions(o: InstallOptions): void {
  if (!path.posix.isAbsolute(o.prefix) || o.prefix.split('/').includes('..')) {
    throw new StateOverlayError('usage', `--prefix ${o.prefix}: expected an absolute path without ..`);
  }
  if (!fs.existsSync(o.destdir) || !fs.statSync(o.destdir).isDirectory()) {
    throw new StateOverlayError('usage', `--destdir ${o.destdir}: not a directory`, { path: o.destdir });
  }
}

function write(stage: string, rel: string, data: string | Buffer, mode: number): void {
  const file = path.join(stage, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  fs.writeFileSync(file, data, { mode });
  fs.chmodSync(file, mode);
}

function listFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
    const r = path.posix.join(rel, d.name);
    return d.isDirectory() ? listFiles(dir, r) : [r];
  });
}

/** Builds everything in a staging directory first, so a failure leaves DESTDIR untouched. */
export async function installSystem(o: InstallOptions): Promise<InstallResult> {
  checkOptions(o);
  const pkg = JSON.parse(fs.readFileSync(path.join(o.repo, 'package.json'), 'utf8')) as { version: string };
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'state-overlay-install-'));
  try {
    const b = await bundle(o.repo, pkg.version);
    fs.mkdirSync(path.join(stage, LIB_DIR), { recursive: true, mode: 0o755 });
    writeBundle(b, path.join(stage, LIB_DIR));
    fs.mkdirSync(path.join(stage, 'bin'), { mode: 0o755 });
    fs.symlinkSync(path.posix.relative('bin', BUNDLE), path.join(stage, LAUNCHER));

    const unitsDir = path.join(o.repo, 'units');
    const units = fs.existsSync(unitsDir) ? fs.readdirSync(unitsDir).filter((f) => UNIT_SUFFIX.test(f)) : [];
    for (const u of units) write(stage, `${UNIT_DIR}/${u}`, unitText(fs.readFileSync(path.join(unitsDir, u), 'utf8'), o.prefix), 0o644);
    write(stage, PRESET, PRESET_TEXT, 0o644);

    const tree = await helpTree(buildProgram(), path.join(stage, BUNDLE), pkg.version);
    write(stage, MAN_PAGE, manPage(tree, o.date), 0o644);
    write(stage, COMPLETION, bashCompletion(tree), 0o644);

    const target = path.join(o.destdir, o.prefix);
    fs.mkdirSync(target, { recursive: true, mode: 0o755 });
    fs.cpSync(stage, target, { recursive: true, verbatimSymlinks: true, force: true });
    const files = listFiles(stage).map((f) => path.posix.join(o.prefix, f).replace(/^\//, '')).sort();
    return { files, addons: b.addons.map((a) => a.name) };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
