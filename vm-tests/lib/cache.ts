// Content-addressed cache of built images under vm-tests/.cache: an entry is a directory named by a
// hash of its inputs, built in a temporary sibling and renamed into place once complete.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const VM_TESTS = path.resolve(import.meta.dirname, '..');
export const REPO = path.resolve(VM_TESTS, '..');
export const CACHE = path.join(VM_TESTS, '.cache');
/** Consoles and results of failed boots are kept here. */
export const ARTIFACTS = path.join(CACHE, 'artifacts');

/** sha256 over a list of inputs: strings, Buffers, and `{ file }` for a file's content. */
export function hashOf(parts: ReadonlyArray<string | Buffer | { file: string }>): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) {
    const data = typeof p === 'string' || Buffer.isBuffer(p) ? p : fs.readFileSync(p.file);
    h.update(String(data.length)).update(':').update(data);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Returns CACHE/KIND-KEY, building it with `build(dir)` first when absent. A failed or
 * interrupted build leaves only a `.tmp-` directory behind, removed by the next build.
 */
export async function cached(kind: string, key: string, build: (dir: string) => Promise<void>): Promise<string> {
  const final = path.join(CACHE, `${kind}-${key}`);
  if (fs.existsSync(final)) return final;
  const tmp = path.join(CACHE, `.tmp-${kind}-${key}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await build(tmp);
  fs.renameSync(tmp, final);
  return final;
}

/** Drops cache entries of KIND other than the current key (old images are large). */
export function pruneOthers(kind: string, key: string): void {
  if (!fs.existsSync(CACHE)) return;
  for (const e of fs.readdirSync(CACHE)) {
    if (e.startsWith(`${kind}-`) && e !== `${kind}-${key}`) fs.rmSync(path.join(CACHE, e), { recursive: true, force: true });
  }
}
