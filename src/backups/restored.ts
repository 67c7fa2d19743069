// backups/restored.json: the sets a restore emptied and then removed, newest last. A restore run again
// after its last move (killed before it could print, or simply repeated) finds its set here and says it
// is done, where the set itself is gone. Bounded: only the newest RESTORED_KEPT names are kept.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { isSetName } from '../paths/set-name.js';
import { writeFileAtomic } from '../state/atomic.js';
import { Fields, isObject, parseJson } from '../state/fields.js';

const RESTORED_VERSION = 1;
const RESTORED_KEPT = 64;

export interface RestoredSet {
  readonly name: string;
  readonly restoredAt: string;
  /** How many entries the restore that emptied it moved back. */
  readonly entries: number;
}

export const restoredFile = (layout: Layout): string => path.join(layout.backupsDir, 'restored.json');

/** The record, every field checked; none yet is an empty one. */
export function readRestored(layout: Layout): RestoredSet[] {
  const file = restoredFile(layout);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('cannot read', file, err);
  }
  const raw = parseJson(text, file);
  if (!isObject(raw) || raw.version !== RESTORED_VERSION) throw new StateOverlayError('corrupt', `${file}: not a version ${RESTORED_VERSION} record of restored sets`, { path: file });
  return Fields.of(file, raw).objects('sets').map((s) => ({
    name: s.check('name', (v): v is string => typeof v === 'string' && isSetName(v), 'a backup set name (STAMP-GENERATION)'),
    restoredAt: s.str('restoredAt'),
    entries: s.int('entries', 0, Number.MAX_SAFE_INTEGER),
  }));
}

/** Adds a set to the record (before the set is removed: a cut between the two leaves an empty set, which retention removes). */
export function noteRestored(layout: Layout, set: RestoredSet): void {
  let sets: RestoredSet[];
  try {
    sets = readRestored(layout);
  } catch (err) {
    // A damaged record only ever answered "already restored": it starts again rather than blocking restores.
    if (!(err instanceof StateOverlayError && err.code === 'corrupt')) throw err;
    sets = [];
  }
  const kept = [...sets.filter((s) => s.name !== set.name), set].slice(-RESTORED_KEPT);
  writeFileAtomic(restoredFile(layout), JSON.stringify({ version: RESTORED_VERSION, sets: kept }, null, 1) + '\n');
}
