// The report of `index` for people (the manifest written, what it cost, the generation) and for machines (JSON).
import type { IndexReport } from '../../ops/index.js';
import { document } from './json.js';

export const indexJson = (r: IndexReport) => document('IndexReport', r);

export const indexText = (r: IndexReport): string =>
  `${r.manifest}: ${r.entries} entries, ${r.hashedBytes} bytes hashed, ${r.reusedDigests} digests reused (${r.ms} ms)\ngeneration ${r.generation}`;
