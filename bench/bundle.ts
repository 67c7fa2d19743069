// The program as install-system lays it down (entry, program and code cache, the xattr addon beside them): what
// the systemd unit starts, so what the unchanged-base `run` figure should time.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, writeBundle } from '../scripts/install/bundle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository, from the compiled file at bench/.work/build/bench/. */
const REPO = path.resolve(here, '../../../..');

/** Writes the bundle under work/bundle and returns its entry's path. */
export async function bundledProgram(work: string): Promise<string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  const dir = path.join(work, 'bundle');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return writeBundle(await bundle(REPO, pkg.version), dir);
}
