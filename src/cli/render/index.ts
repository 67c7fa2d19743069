// The report of `index` for people (the manifest written, what it cost, the generation) and for machines (JSON).
import type { IndexReport } from '../../ops/index.js';

export const indexJson = (r: IndexReport): object => r;

export const indexText = (r: IndexReport): string =>
  `${r.manifest}: ${r.entries} entries, ${r.hashedBytes} bytes hashed, ${r.reusedDigests} digests reused (${r.ms} ms)\ngeneration ${r.generation}`;
