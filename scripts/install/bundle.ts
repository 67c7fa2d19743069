// Bundles the program with esbuild into the files of its install directory: a small entry, the program
// as one CommonJS function, and V8's code cache of it; the fs-xattr native addon is loaded from beside them.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { build, type Plugin } from 'esbuild';

/** File name of the native addon in the install directory, next to the bundle. */
export const ADDON_NAME = 'xattr.node';
/** The journal addon (native/journal.c, built by node-gyp into build/Release/), beside the bundle too. */
export const JOURNAL_ADDON_NAME = 'journal.node';
/** The entry the launcher points at (`#!/usr/bin/env node`). */
export const ENTRY_NAME = 'state-overlay.cjs';
/** The program: one function expression `(exports, require, module, __filename, __dirname) => …`. */
export const PROGRAM_NAME = 'program.cjs';
/** V8's code cache of the program, made at install time. */
export const CACHE_NAME = 'program.cache';

/** The specifier fs-xattr 0.4 hands to `createRequire(import.meta.url)`. */
const ADDON_LOAD = "createRequire(import.meta.url)('./build/Release/xattr')";

export interface BundleFile {
  readonly name: string;
  readonly data: string | Buffer;
  readonly mode: number;
}

export interface BundleResult {
  /** The install directory's files made here: entry, program, code cache. */
  readonly files: readonly BundleFile[];
  /** True when fs-xattr is part of the program, so the addon must ship beside the bundle. */
  readonly usesAddon: boolean;
  /** The compiled addon to copy beside the bundle as ADDON_NAME. */
  readonly addonPath: string;
  /** The compiled journal addon, copied beside the bundle as JOURNAL_ADDON_NAME. */
  readonly journalAddonPath: string;
}

/** The compiled fs-xattr binding that npm built for this Node. */
export function addonSource(repo: string): string {
  const req = createRequire(path.join(repo, 'package.json'));
  return path.join(path.dirname(req.resolve('fs-xattr')), 'build', 'Release', 'xattr.node');
}

/**
 * fs-xattr loads its binding relative to its own module; inside the bundle the program's directory is
 * the install directory, so load the copy installed there.
 */
function addonBesideBundle(): Plugin {
  return {
    name: 'fs-xattr-addon-beside-bundle',
    setup(b) {
      b.onLoad({ filter: /[\\/]fs-xattr[\\/]index\.js$/ }, async (args) => {
        const text = await fs.promises.readFile(args.path, 'utf8');
        if (!text.includes(ADDON_LOAD)) {
          return { errors: [{ text: `${args.path}: expected fs-xattr to load its binding with ${ADDON_LOAD}` }] };
        }
        return { contents: text.replace(ADDON_LOAD, `require(require('node:path').join(__dirname, '${ADDON_NAME}'))`), loader: 'js' };
      });
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
    banner: { js: '(function (exports, require, module, __filename, __dirname) {\n"use strict";' },
    footer: { js: '})' },
    // The program reports the version npm gives it; the installed copy has no npm around it.
    define: { 'process.env.npm_package_version': JSON.stringify(version) },
    plugins: [addonBesideBundle()],
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error('esbuild produced no output');
  const usesAddon = Object.keys(result.metafile.inputs).some((f) => /(^|\/)node_modules\/fs-xattr\//.test(f));
  return {
    files: [
      { name: ENTRY_NAME, data: ENTRY, mode: 0o755 },
      { name: PROGRAM_NAME, data: out.text, mode: 0o644 },
      { name: CACHE_NAME, data: codeCache(out.text), mode: 0o644 },
    ],
    usesAddon,
    addonPath: addonSource(repo),
    journalAddonPath: path.join(repo, 'build', 'Release', JOURNAL_ADDON_NAME),
  };
}

/** Writes the bundle's files and the addon into dir (which must exist); returns the entry's path. */
export function writeBundle(b: BundleResult, dir: string): string {
  const put = (name: string, data: string | Buffer, mode: number) => {
    fs.writeFileSync(path.join(dir, name), data, { mode });
    fs.chmodSync(path.join(dir, name), mode);
  };
  for (const f of b.files) put(f.name, f.data, f.mode);
  if (b.usesAddon) put(ADDON_NAME, fs.readFileSync(b.addonPath), 0o755);
  // Without it the program still runs: records take the journal's stream, without their fields.
  if (fs.existsSync(b.journalAddonPath)) put(JOURNAL_ADDON_NAME, fs.readFileSync(b.journalAddonPath), 0o755);
  return path.join(dir, ENTRY_NAME);
}
