// Bundles the program into one ESM file with esbuild; the fs-xattr native addon is loaded from beside it.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { build, type Plugin } from 'esbuild';

/** File name of the native addon in the install directory, next to the bundle. */
export const ADDON_NAME = 'xattr.node';

/** The specifier fs-xattr 0.4 hands to `createRequire(import.meta.url)`. */
const ADDON_SPECIFIER = "'./build/Release/xattr'";

export interface BundleResult {
  /** The bundle's text (starts with a `#!/usr/bin/env node` line). */
  readonly code: string;
  /** True when fs-xattr is part of the program, so the addon must ship beside the bundle. */
  readonly usesAddon: boolean;
  /** The compiled addon to copy beside the bundle as ADDON_NAME. */
  readonly addonPath: string;
}

/** The compiled fs-xattr binding that npm built for this Node. */
export function addonSource(repo: string): string {
  const req = createRequire(path.join(repo, 'package.json'));
  return path.join(path.dirname(req.resolve('fs-xattr')), 'build', 'Release', 'xattr.node');
}

/**
 * fs-xattr loads its binding relative to its own module; inside the bundle `import.meta.url` is the
 * bundle, so point the specifier at the copy installed beside it.
 */
function addonBesideBundle(): Plugin {
  return {
    name: 'fs-xattr-addon-beside-bundle',
    setup(b) {
      b.onLoad({ filter: /[\\/]fs-xattr[\\/]index\.js$/ }, async (args) => {
        const text = await fs.promises.readFile(args.path, 'utf8');
        if (!text.includes(ADDON_SPECIFIER)) {
          return { errors: [{ text: `${args.path}: expected fs-xattr to load its binding from ${ADDON_SPECIFIER}` }] };
        }
        return { contents: text.replace(ADDON_SPECIFIER, `'./${ADDON_NAME}'`), loader: 'js' };
      });
    },
  };
}

/** CommonJS dependencies call require() for Node built-ins; an ESM bundle has to provide it. */
const BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __stateOverlayRequire } from 'node:module';",
  'const require = __stateOverlayRequire(import.meta.url);',
].join('\n');

/** Bundles src/main.ts, or `source` (module text resolved from the repo) when given. */
export async function bundle(repo: string, version: string, source?: string): Promise<BundleResult> {
  const result = await build({
    absWorkingDir: repo,
    ...(source === undefined
      ? { entryPoints: [path.join(repo, 'src', 'main.ts')] }
      : { stdin: { contents: source, resolveDir: repo, loader: 'ts', sourcefile: 'entry.ts' } }),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    outfile: 'state-overlay.mjs',
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
    banner: { js: BANNER },
    // The program reports the version npm gives it; the installed copy has no npm around it.
    define: { 'process.env.npm_package_version': JSON.stringify(version) },
    plugins: [addonBesideBundle()],
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error('esbuild produced no output');
  const usesAddon = Object.keys(result.metafile.inputs).some((f) => /(^|\/)node_modules\/fs-xattr\//.test(f));
  return { code: out.text, usesAddon, addonPath: addonSource(repo) };
}
