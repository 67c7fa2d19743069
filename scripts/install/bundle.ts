// Bundles the program with esbuild into the files of its install directory: a small entry, the program
// as one CommonJS function, and V8's code cache of it; the native addons (fs-xattr's and the project's
// own) are loaded from beside them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { tryRun } from '../../src/exec.js';

/** File name of fs-xattr's native addon in the install directory, next to the bundle. */
export const ADDON_NAME = 'xattr.node';
/** File name of the project's own addon (native/, loaded by src/native/syscalls.ts) there. */
export const SYSCALLS_ADDON_NAME = 'syscalls.node';
/** The entry the launcher points at (`#!/usr/bin/env node`). */
export const ENTRY_NAME = 'state-overlay.cjs';
/** The program: one function expression `(exports, require, module, __filename, __dirname) => …`. */
export const PROGRAM_NAME = 'program.cjs';
/** V8's code cache of the program, made at install time. */
export const CACHE_NAME = 'program.cache';

/** A native addon the program loads: the module that loads it, how, and where the build left it. */
interface Addon {
  /** The file name beside the bundle. */
  readonly name: string;
  /** The module (by path) that loads it. */
  readonly module: RegExp;
  /** The exact load expression in that module, replaced by a load from beside the bundle. */
  readonly load: string;
  /** The compiled addon in the checkout. */
  readonly source: (repo: string) => string;
}

const ADDONS: readonly Addon[] = [
  {
    name: ADDON_NAME,
    module: /[\\/]node_modules[\\/]fs-xattr[\\/]index\.js$/,
    // The specifier fs-xattr 0.4 hands to `createRequire(import.meta.url)`.
    load: "createRequire(import.meta.url)('./build/Release/xattr')",
    source: (repo) => path.join(path.dirname(createRequire(path.join(repo, 'package.json')).resolve('fs-xattr')), 'build', 'Release', 'xattr.node'),
  },
  {
    name: SYSCALLS_ADDON_NAME,
    module: /[\\/]src[\\/]native[\\/]syscalls\.ts$/,
    load: 'createRequire(import.meta.url)(ADDON_FROM_MODULE)',
    // ADDON_FROM_MODULE, from src/native/.
    source: (repo) => path.join(repo, 'native', 'build', 'Release', 'syscalls.node'),
  },
];

export interface BundleFile {
  readonly name: string;
  readonly data: string | Buffer;
  readonly mode: number;
}

export interface BundledAddon {
  /** Its file name beside the bundle. */
  readonly name: string;
  /** The compiled addon to copy there. */
  readonly path: string;
}

export interface BundleResult {
  /** The install directory's files made here: entry, program, code cache. */
  readonly files: readonly BundleFile[];
  /** The native addons the program loads, to ship beside the bundle. */
  readonly addons: readonly BundledAddon[];
  /** The bundle's input files (esbuild's metafile), absolute: what its notices cover. */
  readonly inputs: readonly string[];
}

/**
 * An addon loads relative to its own module; inside the bundle the program's directory is the install
 * directory, so load the copy installed there.
 */
function addonsBesideBundle(): Plugin {
  return {
    name: 'addons-beside-bundle',
    setup(b) {
      for (const a of ADDONS) {
        b.onLoad({ filter: a.module }, async (args) => {
          const text = await fs.promises.readFile(args.path, 'utf8');
          if (!text.includes(a.load)) {
            return { errors: [{ text: `${args.path}: expected it to load its addon with ${a.load}` }] };
          }
          return { contents: text.replace(a.load, `require(require('node:path').join(__dirname, '${a.name}'))`), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
        });
      }
    },
  };
}

/**
 * Each of Node's built-in modules an ES module imports becomes one module of the bundle that re-exports
 * it. esbuild wraps a CommonJS module for every ES module that imports it, copying each of its exports
 * onto a new object: for `node:fs`, imported by most of the sources, a hundred properties every time, at
 * every start (about 2 ms of an unchanged-base run).
 */
function builtinsOnce(): Plugin {
  return {
    name: 'builtins-once',
    setup(b) {
      // Imports only: a require() of a package's CommonJS gets the module itself, as ever.
      b.onResolve({ filter: /^node:/ }, (args) => {
        if (args.namespace === 'builtin') return { path: args.path, external: true };
        return args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `export * from '${args.path}';\nexport { default } from '${args.path}';\n`, loader: 'js' }));
    },
  };
}

/**
 * The entry: compiles the program with the code cache, which spares compiling its source at every
 * start (Node 20 caches no compiled code itself). V8 ignores a cache made by another Node version or
 * with other flags, and the program is then compiled from source: slower, never wrong.
 */
const ENTRY = `#!/usr/bin/env node
'use strict';
// Runs ${PROGRAM_NAME} from beside this file, compiled with its code cache ${CACHE_NAME} when V8 accepts it.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const file = path.join(__dirname, '${PROGRAM_NAME}');
let cachedData;
try {
  cachedData = fs.readFileSync(path.join(__dirname, '${CACHE_NAME}'));
} catch {
  // no cache: compile from source
}
new vm.Script(fs.readFileSync(file, 'utf8'), { filename: file, cachedData }).runInThisContext()(exports, require, module, file, __dirname);
`;

/** The code cache V8 makes for the program's text (checked against the text's length and V8's version and flags). */
export function codeCache(program: string): Buffer {
  return new vm.Script(program, { filename: PROGRAM_NAME }).createCachedData();
}

/**
 * Runs the program as the code cache is made: at exit, the cache holds every function the run compiled,
 * not only the top level that compiling alone gives (V8 compiles a function when it is first called).
 */
const TRAINER = `'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const file = path.join(__dirname, '${PROGRAM_NAME}');
const out = process.argv.splice(2, 1)[0];
const script = new vm.Script(fs.readFileSync(file, 'utf8'), { filename: file });
process.on('exit', () => fs.writeFileSync(out, script.createCachedData()));
script.runInThisContext()(exports, require, module, file, __dirname);
`;

/**
 * The boot the cache is trained on, in a mount namespace of its own (the mounts go with it), on a tmpfs
 * (whatever the temporary directory is on, an overlay in a container build say, an overlay can be
 * mounted with its upper there): a base with a shipped manifest is adopted, unmounted, and run again
 * unchanged, the last run made by the trainer. Arguments: node, entry, trainer, root, cache out.
 */
const TRAINING = `set -e
mount -t tmpfs -o mode=0755 state-overlay-training "$4"
mkdir -p "$4/opt/app/lib"
printf '#!/bin/sh\\n' > "$4/opt/app/tool"
printf 'data\\n' > "$4/opt/app/lib/data"
ln -s app/tool "$4/opt/tool"
"$1" "$2" --root "$4" -q index opt --ship
"$1" "$2" --root "$4" -q run opt
"$1" "$2" --root "$4" -q unmount opt
rm -rf "$4/run"
"$1" "$3" "$5" --root "$4" -q run opt
`;

/** A training that has not ended by then is stopped (a run waits 60 s at most for a lock, say). */
const TRAINING_TIMEOUT_MS = 120_000;

export type TrainedCache = { readonly cache: Buffer } | { readonly error: string };

/**
 * V8's code cache of the program trained on an unchanged-base boot (TRAINING), made by the Node that will
 * run it (node: its version and flags must match). The training mounts, so it needs root; without it,
 * or where it fails, the reason, and the program keeps the cache of compiling alone.
 */
export async function trainedCache(b: BundleResult, node = process.execPath): Promise<TrainedCache> {
  // An overlay's upper needs trusted.* xattrs, which a user namespace's root does not get.
  if (process.getuid?.() !== 0) return { error: 'the training mounts an overlay, which needs root' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-overlay-cache-'));
  try {
    const lib = path.join(dir, 'lib');
    fs.mkdirSync(lib);
    const entry = writeBundle(b, lib);
    const trainer = path.join(lib, 'train.cjs');
    fs.writeFileSync(trainer, TRAINER);
    const root = path.join(dir, 'root');
    fs.mkdirSync(root);
    const out = path.join(dir, CACHE_NAME);
    const r = await tryRun('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', TRAINING, 'sh', node, entry, trainer, root, out], { timeoutMs: TRAINING_TIMEOUT_MS }).catch((e: unknown) => e as Error);
    if (r instanceof Error) return { error: r.message };
    if (r.exitCode !== 0) return { error: `the training run failed (exit status ${r.exitCode}): ${r.stderr.trim()}` };
    return { cache: fs.readFileSync(out) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The bundle with its code cache replaced by a trained one. */
export function withCache(b: BundleResult, cache: Buffer): BundleResult {
  return { ...b, files: b.files.map((f) => (f.name === CACHE_NAME ? { ...f, data: cache } : f)) };
}

/** The program's own name for its URL, which stands for import.meta.url. */
const META_URL = 'programUrl';

/** Bundles src/main.ts, or `source` (module text resolved from the repo) when given. */
export async function bundle(repo: string, version: string, source?: string): Promise<BundleResult> {
  const result = await build({
    absWorkingDir: repo,
    ...(source === undefined
      ? { entryPoints: [path.join(repo, 'src', 'main.ts')] }
      : { stdin: { contents: source, resolveDir: repo, loader: 'ts', sourcefile: 'entry.ts' } }),
    bundle: true,
    platform: 'node',
    // CommonJS, so the entry can compile it with a code cache (vm.Script); the sources are ES modules,
    // so the whole program stays strict mode as it was as one ES module.
    format: 'cjs',
    target: 'node20',
    write: false,
    outfile: PROGRAM_NAME,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
    // import.meta.url, which CommonJS lacks, is the program's file (src/hash.ts loads node:crypto by it).
    banner: { js: `(function (exports, require, module, __filename, __dirname) {\n"use strict";\nconst ${META_URL} = require('node:url').pathToFileURL(__filename).href;` },
    footer: { js: '})' },
    // The program reports the version npm gives it; the installed copy has no npm around it.
    define: { 'process.env.npm_package_version': JSON.stringify(version), 'import.meta.url': META_URL },
    plugins: [addonsBesideBundle(), builtinsOnce()],
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error('esbuild produced no output');
  const inputs = Object.keys(result.metafile.inputs).map((f) => path.resolve(repo, f));
  const addons = ADDONS.filter((a) => inputs.some((f) => a.module.test(f))).map((a) => ({ name: a.name, path: a.source(repo) }));
  const unbuilt = addons.filter((a) => !fs.existsSync(a.path)).map((a) => a.path);
  if (unbuilt.length > 0) throw new Error(`${unbuilt.join(', ')}: not built (npm ci, then npm run build)`);
  return {
    files: [
      { name: ENTRY_NAME, data: ENTRY, mode: 0o755 },
      { name: PROGRAM_NAME, data: out.text, mode: 0o644 },
      { name: CACHE_NAME, data: codeCache(out.text), mode: 0o644 },
    ],
    addons,
    inputs,
  };
}

function put(dir: string, name: string, data: string | Buffer, mode: number): void {
  fs.writeFileSync(path.join(dir, name), data, { mode });
  fs.chmodSync(path.join(dir, name), mode);
}

/** Copies the addons the program loads into dir, beside the bundle or the single executable: shared objects, loaded, never run. */
export function writeAddons(b: BundleResult, dir: string): void {
  for (const a of b.addons) put(dir, a.name, fs.readFileSync(a.path), 0o644);
}

/** Writes the bundle's files and the addons into dir (which must exist); returns the entry's path. */
export function writeBundle(b: BundleResult, dir: string): string {
  for (const f of b.files) put(dir, f.name, f.data, f.mode);
  writeAddons(b, dir);
  return path.join(dir, ENTRY_NAME);
}

/** The program's text (one function expression), which the single executable embeds. */
export function programText(b: BundleResult): string {
  const f = b.files.find((x) => x.name === PROGRAM_NAME);
  if (f === undefined) throw new Error(`the bundle has no ${PROGRAM_NAME}`);
  return f.data.toString();
}
