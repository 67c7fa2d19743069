// Lays the program down the way an image build or a package would: the single executable (or, with the
// node layout, a bundle for a system Node: entry, program, code cache), its native addons, the
// launcher, the units, a preset, the man pages and the bash, zsh and fish completions, and the licenses
// of everything bundled, under DESTDIR/PREFIX.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { STATUS_FORMATS } from '../../src/cli/commands/status.js';
import { LEVELS } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/program.js';
import { StateOverlayError } from '../../src/errors.js';
import { tryRun } from '../../src/exec.js';
import { CACHE_NAME, ENTRY_NAME, PROGRAM_NAME, bundle, programText, trainedCache, withCache, writeAddons, writeBundle, type BundleResult } from './bundle.js';
import { bashCompletion, fishCompletion, zshCompletion, type ValueWords } from './completion.js';
import { helpTree } from './help-tree.js';
import { MAN_SOURCES, renderManPage } from './manpage.js';
import { bundledPackages, nodeLicense, thirdPartyNotices } from './notices.js';
import { SEA_NAME, buildSea, strip } from './sea.js';

/** sea: one executable holding Node and the program; node: the program for the system's Node. */
export const LAYOUTS = ['sea', 'node'] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface InstallOptions {
  /** The project checkout to build from. */
  readonly repo: string;
  /** Staging root the files go under (`/` for the running system). */
  readonly destdir: string;
  /** Absolute install prefix as the target system sees it (`/usr`). */
  readonly prefix: string;
  /** Man page date (YYYY-MM-DD); default: SOURCE_DATE_EPOCH's, else the checkout's last commit's, else today's. */
  readonly date?: string;
  /** Default sea. */
  readonly layout?: Layout;
  /** The Node binary the single executable is made from; default: the running one. */
  readonly node?: string;
  /** The version the program reports (`--version`, the man pages); default: package.json's. */
  readonly version?: string;
}

export interface InstallResult {
  /** Installed paths relative to DESTDIR, sorted. */
  readonly files: readonly string[];
  /** File names of the native addons installed beside the bundle, which the program loads from there. */
  readonly addons: readonly string[];
  /** What the install could not do as well as it should, for its caller to print (the program works). */
  readonly warnings: readonly string[];
}

/** Paths relative to PREFIX. */
export const LIB_DIR = 'lib/state-overlay';
/** The single executable, which the launcher points at in the sea layout. */
export const SEA = `${LIB_DIR}/${SEA_NAME}`;
/** The node layout's entry, which the launcher points at there; it runs PROGRAM with its code cache CODE_CACHE. */
export const BUNDLE = `${LIB_DIR}/${ENTRY_NAME}`;
export const PROGRAM = `${LIB_DIR}/${PROGRAM_NAME}`;
export const CODE_CACHE = `${LIB_DIR}/${CACHE_NAME}`;
export const LAUNCHER = 'bin/state-overlay';
export const UNIT_DIR = 'lib/systemd/system';
export const PRESET = 'lib/systemd/system-preset/80-state-overlay.preset';
/** Each man page source man/PAGE.in goes to share/man/manSECTION/PAGE. */
export const manPath = (page: string): string => `share/man/man${page.slice(page.lastIndexOf('.') + 1)}/${page}`;
export const COMPLETIONS = {
  bash: 'share/bash-completion/completions/state-overlay',
  zsh: 'share/zsh/site-functions/_state-overlay',
  fish: 'share/fish/vendor_completions.d/state-overlay.fish',
} as const;
/** The licenses of the packages compiled into the bundle. */
export const NOTICES = 'share/licenses/state-overlay/THIRD-PARTY-NOTICES';
/** What the shells complete after an option that takes a value, by the value's name. */
export const VALUE_WORDS: ValueWords = { DIR: 'directory', FILE: 'file', LEVEL: LEVELS, FORMAT: STATUS_FORMATS };

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
  if (fs.existsSync(o.destdir) && !fs.statSync(o.destdir).isDirectory()) {
    throw new StateOverlayError('usage', `--destdir ${o.destdir}: not a directory`, { path: o.destdir });
  }
  if (o.layout !== undefined && !LAYOUTS.includes(o.layout)) {
    throw new StateOverlayError('usage', `--layout ${o.layout}: expected ${LAYOUTS.join(' or ')}`);
  }
}

/** The man pages' date, reproducible: the same checkout gives the same pages. */
export async function manDate(repo: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString().slice(0, 10);
  const git = await tryRun('git', ['-C', repo, 'log', '-1', '--format=%cs']).catch(() => undefined);
  if (git?.exitCode === 0 && /^\d{4}-\d\d-\d\d$/.test(git.stdout.trim())) return git.stdout.trim();
  return new Date().toISOString().slice(0, 10);
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

async function nodeVersion(node: string): Promise<string> {
  const r = await tryRun(node, ['--version']);
  if (r.exitCode !== 0 || !/^v\d+\.\d+\.\d+/.test(r.stdout)) throw new Error(`${node} --version: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim();
}

/** The single executable and the addons beside it, in dir. */
async function writeSea(b: BundleResult, dir: string, node: string | undefined, cache: Buffer | undefined): Promise<void> {
  await buildSea({ program: programText(b), out: path.join(dir, SEA_NAME), ...(node === undefined ? {} : { node }), ...(cache === undefined ? {} : { cache }) });
  writeAddons(b, dir);
  // As a package's shared objects are: no symbols beyond the dynamic ones.
  for (const a of b.addons) await strip(path.join(dir, a.name), ['--strip-unneeded']);
}

/** Builds everything in a staging directory first, so a failure leaves DESTDIR untouched. */
export async function installSystem(o: InstallOptions): Promise<InstallResult> {
  checkOptions(o);
  const pkg = JSON.parse(fs.readFileSync(path.join(o.repo, 'package.json'), 'utf8')) as { version: string; license: string };
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'state-overlay-install-'));
  try {
    const layout = o.layout ?? 'sea';
    const version = o.version ?? pkg.version;
    const b = await bundle(o.repo, version);
    // The single executable's cache is made by the Node it copies; the bundle's by this one.
    const trained = await trainedCache(b, layout === 'sea' ? o.node : undefined);
    const warnings = 'error' in trained ? [`the code cache is not trained on a boot (every start compiles more): ${trained.error}`] : [];
    const cache = 'cache' in trained ? trained.cache : undefined;
    const lib = path.join(stage, LIB_DIR);
    fs.mkdirSync(lib, { recursive: true, mode: 0o755 });
    if (layout === 'node') writeBundle(cache === undefined ? b : withCache(b, cache), lib);
    else await writeSea(b, lib, o.node, cache);
    fs.mkdirSync(path.join(stage, 'bin'), { mode: 0o755 });
    fs.symlinkSync(path.posix.relative('bin', layout === 'node' ? BUNDLE : SEA), path.join(stage, LAUNCHER));

    const unitsDir = path.join(o.repo, 'units');
    const units = fs.existsSync(unitsDir) ? fs.readdirSync(unitsDir).filter((f) => UNIT_SUFFIX.test(f)) : [];
    for (const u of units) write(stage, `${UNIT_DIR}/${u}`, unitText(fs.readFileSync(path.join(unitsDir, u), 'utf8'), o.prefix), 0o644);
    write(stage, PRESET, PRESET_TEXT, 0o644);

    const tree = helpTree(buildProgram(), version);
    const date = o.date || (await manDate(o.repo));
    for (const page of MAN_SOURCES) {
      write(stage, manPath(page), renderManPage(fs.readFileSync(path.join(o.repo, 'man', `${page}.in`), 'utf8'), tree, date), 0o644);
    }
    const node = layout === 'sea' ? nodeLicense(o.node ?? process.execPath, await nodeVersion(o.node ?? process.execPath)) : undefined;
    write(stage, NOTICES, thirdPartyNotices(pkg.license, bundledPackages(o.repo, b.inputs), node), 0o644);
    write(stage, COMPLETIONS.bash, bashCompletion(tree, VALUE_WORDS), 0o644);
    write(stage, COMPLETIONS.zsh, zshCompletion(tree, VALUE_WORDS), 0o644);
    write(stage, COMPLETIONS.fish, fishCompletion(tree, VALUE_WORDS), 0o644);

    const target = path.join(o.destdir, o.prefix);
    fs.mkdirSync(target, { recursive: true, mode: 0o755 });
    fs.cpSync(stage, target, { recursive: true, verbatimSymlinks: true, force: true });
    const files = listFiles(stage).map((f) => path.posix.join(o.prefix, f).replace(/^\//, '')).sort();
    return { files, addons: b.addons.map((a) => a.name), warnings };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
