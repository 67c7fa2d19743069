// Builds the single executable (a Node single executable application): a copy of a Node binary with
// the bundled program and V8's code cache of it injected (postject), the native addons installed
// beside it and loaded from there by absolute path (dirname of process.execPath).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'postject';
import { tryRun } from '../../src/exec.js';

/** The executable's file name in the install directory. */
export const SEA_NAME = 'state-overlay';
/** The fuse Node's binary carries for a single executable application (Node's own docs name it). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const SEA_RESOURCE = 'NODE_SEA_BLOB';

/** The names of the program and its code cache among the executable's assets. */
export const PROGRAM_ASSET = 'program.cjs';
export const CACHE_ASSET = 'program.cache';

/**
 * The executable's main script: compiles the program from its asset with the code cache asset (trained
 * on a boot, bundle.ts's trainedCache), as the bundle's entry does; V8 ignores a cache it cannot use and
 * compiles from source. A single executable's `require` loads only Node's built-in modules; the program
 * loads its addons by absolute path, so it gets a full `require` rooted at the executable, and
 * `__dirname` is the executable's directory, where the addons are installed.
 */
export const SEA_MAIN = `'use strict';
const sea = require('node:sea');
const vm = require('node:vm');
let cachedData;
try {
  cachedData = new Uint8Array(sea.getRawAsset('${CACHE_ASSET}'));
} catch {
  // no cache: compile from source
}
new vm.Script(sea.getAsset('${PROGRAM_ASSET}', 'utf8'), { filename: __filename, cachedData }).runInThisContext()(exports, require('node:module').createRequire(__filename), module, __filename, __dirname);
`;

export interface SeaOptions {
  /** The bundled program (bundle.ts's program.cjs text: one function expression). */
  readonly program: string;
  /** V8's code cache of the program, made by the same Node (bundle.ts's trainedCache). */
  readonly cache?: Buffer;
  /** The Node binary to copy; its version makes the blob. Default: the running Node. */
  readonly node?: string;
  /** Where the executable goes (its directory must exist). */
  readonly out: string;
}

/**
 * A Node built with a shared libnode (Fedora's, Debian's own) has no fuse in its executable; the
 * official builds and NodeSource's do.
 */
async function checkFuse(node: string): Promise<void> {
  const bytes = await fs.promises.readFile(node);
  if (!bytes.includes(SEA_FUSE)) {
    throw new Error(`${node}: this Node cannot make a single executable (no ${SEA_FUSE} in it: a build with a shared libnode); use an official Node build (--node PATH) or --layout node`);
  }
}

/**
 * postject's ELF library warns through console.warn about every note section it cannot name (Node's
 * binary has hundreds); they say nothing about the result, so those are dropped, any other passed on.
 */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/^warning: Can't find string offset for section name /.test(String(args[0]))) warn(...args);
  };
  try {
    return await f();
  } finally {
    console.warn = warn;
  }
}

/** The program is an asset of the executable: node:sea's getAsset came with Node 20.12 and 21.7. */
async function checkAssets(node: string): Promise<void> {
  const r = await tryRun(node, ['-p', "typeof require('node:sea').getAsset"]).catch(() => undefined);
  if (r?.stdout !== 'function') throw new Error(`${node}: this Node cannot make a single executable with assets (node:sea's getAsset, Node >= 20.12); use a newer Node (--node PATH) or --layout node`);
}

/**
 * strip(1) on an ELF file when binutils is there (else it stays as it is): the symbol table and debug
 * sections go, never the dynamic symbols, which the addons link against.
 */
export async function strip(file: string, args: readonly string[]): Promise<void> {
  const r = await tryRun('strip', [...args, file]).catch(() => undefined);
  if (r !== undefined && r.exitCode !== 0) throw new Error(`strip ${file}: ${r.stderr.trim()}`);
}

/** Builds the executable at o.out, stripped (a tenth of its size). */
export async function buildSea(o: SeaOptions): Promise<void> {
  const node = o.node ?? process.execPath;
  await checkFuse(node);
  await checkAssets(node);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'state-overlay-sea-'));
  try {
    const main = path.join(work, 'main.cjs');
    const blob = path.join(work, 'sea.blob');
    fs.writeFileSync(main, SEA_MAIN);
    const assets: Record<string, string> = { [PROGRAM_ASSET]: path.join(work, PROGRAM_ASSET) };
    fs.writeFileSync(assets[PROGRAM_ASSET]!, o.program);
    if (o.cache !== undefined) {
      assets[CACHE_ASSET] = path.join(work, CACHE_ASSET);
      fs.writeFileSync(assets[CACHE_ASSET], o.cache);
    }
    const config = { main, output: blob, disableExperimentalSEAWarning: true, assets };
    fs.writeFileSync(path.join(work, 'sea.json'), JSON.stringify(config));
    const made = await tryRun(node, ['--experimental-sea-config', path.join(work, 'sea.json')]);
    if (made.exitCode !== 0) throw new Error(`${node} --experimental-sea-config: ${made.stderr.trim() || `exit ${made.exitCode}`}`);
    const exe = path.join(work, SEA_NAME);
    fs.copyFileSync(node, exe);
    fs.chmodSync(exe, 0o755);
    await strip(exe, []);
    await quietly(() => inject(exe, SEA_RESOURCE, fs.readFileSync(blob), { sentinelFuse: SEA_FUSE }));
    fs.copyFileSync(exe, o.out);
    fs.chmodSync(o.out, 0o755);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
