// The program as install-system lays it down (one esbuild bundle, the xattr addon beside it): what
// the systemd unit starts, so what the unchanged-base `run` figure should time.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_NAME, bundle } from '../scripts/install/bundle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository, from the compiled file at bench/.work/build/bench/. */
const REPO = path.resolve(here, '../../../..');

/** Writes the bundle under work/bundle and returns its path. */
export async function bundledProgram(work: string): Promise<string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  const b = await bundle(REPO, pkg.version);
  const dir = path.join(work, 'bundle');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'state-overlay.mjs');
  fs.writeFileSync(file, b.code, { mode: 0o755 });
  if (b.usesAddon) fs.copyFileSync(b.addonPath, path.join(dir, ADDON_NAME));
  return file;
}
