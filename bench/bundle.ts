// The program as install-system lays it down, in its two layouts: the single executable (what the unit
// starts) and the bundle for a system Node (entry, program and code cache), the addons beside each.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, programText, trainedCache, withCache, writeAddons, writeBundle, type BundleResult } from '../scripts/install/bundle.js';
import { SEA_NAME, buildSea } from '../scripts/install/sea.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository, from the compiled file at bench/.work/build/bench/. */
const REPO = path.resolve(here, '../../../..');

function freshDir(work: string, name: string): string {
  const dir = path.join(work, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const bundled = () => bundle(REPO, (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version);

/** The code cache trained on a boot, as install-system makes it; the bench runs as root, so it must be. */
async function trained(b: BundleResult): Promise<Buffer> {
  const t = await trainedCache(b);
  if ('error' in t) throw new Error(`cannot train the code cache: ${t.error}`);
  return t.cache;
}

/** Writes the bundle under work/bundle and returns its entry's path. */
export async function bundledProgram(work: string): Promise<string> {
  const b = await bundled();
  return writeBundle(withCache(b, await trained(b)), freshDir(work, 'bundle'));
}

/** Builds the single executable under work/sea and returns its path. */
export async function seaProgram(work: string): Promise<string> {
  const b = await bundled();
  const dir = freshDir(work, 'sea');
  await buildSea({ program: programText(b), out: path.join(dir, SEA_NAME), cache: await trained(b) });
  writeAddons(b, dir);
  return path.join(dir, SEA_NAME);
}
