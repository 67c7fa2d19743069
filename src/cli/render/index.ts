// The report of `index` for people (the manifest written, what it cost, the generation) and for machines (JSON).
import type { IndexReport } from '../../ops/index.js';
import { document } from './json.js';
import { formatBytes, plural } from './words.js';

export const indexJson = (r: IndexReport) => document('IndexReport', r);

/** Sizes in bytes for scripts, in binary units on a terminal (`human`). */
export const indexText = (r: IndexReport, human = false): string =>
  `${r.manifest}: ${plural(r.entries, 'entry', 'entries')}, ${human ? formatBytes(r.hashedBytes) : plural(r.hashedBytes, 'byte')} hashed, ${plural(r.reusedDigests, 'digest')} reused (${r.ms} ms)\ngeneration ${r.generation}`;
