// sha256, the project's one hash. node:crypto is loaded on the first hash, not with the program: the start
// of an unchanged base hashes nothing, and loading it would cost that start about 2 ms.
import type { Hash } from 'node:crypto';
import { createRequire } from 'node:module';

let crypto: typeof import('node:crypto') | undefined;

/** A new sha256 hash. */
export function newSha256(): Hash {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha256');
}
