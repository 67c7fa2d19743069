// Drives the product through its command line on a --root scratch tree (the base's cache dir, NAME opt).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { unmountUnder } from './mounts.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * The program as bin/state-overlay.js runs it, but from the bench's own build of src/ (bench/tsconfig.json),
 * so a rebuild of dist/ while the bench runs cannot change what is measured.
 */
export const MAIN = path.resolve(here, '../src/main.js');
/** The compiled src/native/syscalls.js loads the addon from ../../native/build/Release: the checkout's native/, linked beside the build. */
const NATIVE = path.resolve(here, '../native');
if (!fs.existsSync(NATIVE)) fs.symlinkSync(path.resolve(here, '../../../../native'), NATIVE);

export interface Scratch {
  readonly root: string;
  readonly name: 'opt';
  readonly base: string;
  readonly stateDir: string;
  readonly upper: string;
  readonly work: string;
  readonly shipped: string;
  /** The private base bind the product mounts beside the overlay. */
  readonly baseBind: string;
  /** The overlay's directory under /run (its base bind, the record of its mount): gone at every boot. */
  readonly runDir: string;
}

export function scratchOf(baseDir: string): Scratch {
  const root = path.dirname(baseDir);
  const stateDir = path.join(root, 'var/lib/state-overlay/opt');
  return {
    root,
    name: 'opt',
    base: baseDir,
    stateDir,
    upper: path.join(stateDir, 'upper'),
    work: path.join(stateDir, 'work'),
    shipped: path.join(root, 'usr/lib/state-overlay/opt.manifest'),
    baseBind: path.join(root, 'run/state-overlay/opt/base'),
    runDir: path.join(root, 'run/state-overlay/opt'),
  };
}

/** Wall time in ms of `state-overlay --root ROOT ARGS…` (program: MAIN or a bundle); fails with its stderr. */
export async function cli(s: Scratch, args: readonly string[], program = MAIN): Promise<number> {
  const argv = ['--root', s.root, '--log-level', 'warn', ...args];
  // A script runs under this Node; the single executable runs itself.
  const [file, all] = /\.[cm]?js$/.test(program) ? [process.execPath, [program, ...argv]] : [program, argv];
  const t0 = performance.now();
  await execa(file, all, { stdin: 'ignore', stdout: 'ignore' });
  return performance.now() - t0;
}

/** `state-overlay --root ROOT --json ARGS…`, its document parsed. */
export async function cliJson<T>(s: Scratch, args: readonly string[]): Promise<T> {
  const r = await execa(process.execPath, [MAIN, '--root', s.root, '--log-level', 'warn', '--json', ...args], { stdin: 'ignore' });
  return JSON.parse(r.stdout) as T;
}

/** The overlay's config file under the root (absent: every key at its default). */
export const configFile = (s: Scratch): string => path.join(s.root, 'etc/state-overlay', `${s.name}.conf`);

/** Unmounts everything under the root and removes every state the product keeps there. */
export async function resetState(s: Scratch): Promise<void> {
  await unmountUnder(s.root);
  for (const d of ['var', 'run', 'etc', 'usr']) fs.rmSync(path.join(s.root, d), { recursive: true, force: true });
}

export function ship(s: Scratch, manifest: string): void {
  fs.mkdirSync(path.dirname(s.shipped), { recursive: true });
  fs.copyFileSync(manifest, s.shipped);
}
