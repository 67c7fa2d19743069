// Deterministic file content: a per-file header (so every path and variant hashes differently)
// followed by slices of one seeded random pool (so content does not compress or dedupe away).
import fs from 'node:fs';
import { createRng, hash32 } from './rng.js';

const POOL_BYTES = 16 * 1024 * 1024;
let pool: Buffer | null = null;

function thePool(): Buffer {
  if (pool) return pool;
  const rng = createRng(0x5eed);
  const words = new Uint32Array(POOL_BYTES / 4);
  for (let i = 0; i < words.length; i++) words[i] = Math.floor(rng.next() * 4294967296);
  pool = Buffer.from(words.buffer);
  return pool;
}

/** Writes `size` bytes of the content of (path, variant) to a new file; variant 0 is the base's. */
export function writeContent(file: Buffer, path: string, size: number, variant: number, mode: number): void {
  const p = thePool();
  const header = Buffer.from(`${variant}:${path}\n`, 'latin1');
  if (size <= p.length) {
    const off = hash32(`${variant}:${path}`) % (p.length - size + 1);
    const body = size <= header.length ? header.subarray(0, size) : Buffer.concat([header, p.subarray(off, off + size - header.length)]);
    fs.writeFileSync(file, body, { mode });
    return;
  }
  const fd = fs.openSync(file, 'w', mode);
  try {
    fs.writeSync(fd, header);
    let left = size - header.length;
    let seed = hash32(path) ^ variant;
    const chunk = 4 * 1024 * 1024;
    while (left > 0) {
      const n = Math.min(chunk, left);
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const off = seed % (p.length - n + 1);
      fs.writeSync(fd, p, off, n);
      left -= n;
    }
  } finally {
    fs.closeSync(fd);
  }
}
