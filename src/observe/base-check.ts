// Whether the base can be trusted as the new base before anything is decided by it. A base that is not
// there in practice is an empty directory (an image volume that did not mount, a stray tmpfs over the
// mountpoint), and read as the new generation it would drop every shadow under rule 5; a shipped manifest
// that does not describe the live base would decide by digests the base does not have. Both are refused,
// naming what was seen; `--force` (run, reconcile) overrides.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { manifestCount, readRecords } from '../manifest/store.js';
import { displayPath } from '../model/entry.js';
import { DirHandles } from '../tree/handles.js';
import { entryType } from '../tree/fsat.js';

/** Records of a shipped manifest checked against the live base: the first ones, cheap to read. */
const SAMPLE = 64;

export interface BaseTrust {
  /** The base as readable now. */
  readonly base: string;
  /** The recorded generation's manifest, when one is kept. */
  readonly recorded: string | null;
  /** The shipped manifest the current generation comes from, if any. */
  readonly shipped?: string | undefined;
  /** Entries the live base has, where the generation walk counted them. */
  readonly entries?: number | undefined;
}

/**
 * A base with fewer than a tenth of the entries the recorded generation had (and that had at least this
 * many) is taken for one that did not mount whole: a few stray files in a mountpoint, a tmpfs over it.
 * An update that really removes nine tenths of a tree goes through with --force.
 */
const SHRINK_FLOOR = 100;
const SHRINK_FACTOR = 10;

const countOf = (file: string | null | undefined): number => (file !== null && file !== undefined && fs.existsSync(file) ? manifestCount(file) : 0);

/** Why the base must not be trusted, or undefined. */
export function distrust(t: BaseTrust): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(t.base);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // reported as missing where it is read
    throw ioError('cannot list the base', t.base, err);
  }
  if (names.length === 0) {
    const had = Math.max(countOf(t.recorded), countOf(t.shipped));
    if (had > 0) return `base ${t.base} is empty, but the ${countOf(t.shipped) > 0 ? 'shipped manifest lists' : 'recorded generation had'} ${had} entries (an image volume that did not mount, or something mounted over it?)`;
  }
  const recorded = countOf(t.recorded);
  const now = t.shipped !== undefined ? countOf(t.shipped) : t.entries;
  if (now !== undefined && recorded >= SHRINK_FLOOR && now * SHRINK_FACTOR < recorded) {
    const what = t.shipped !== undefined ? `the shipped manifest ${t.shipped} lists` : `base ${t.base} has`;
    return `${what} ${now} entries, but the recorded generation had ${recorded} (an image volume that did not mount whole, or something mounted over it?)`;
  }
  if (t.shipped !== undefined) return sampleMismatch(t.base, t.shipped);
  return undefined;
}

/** The first entry of the shipped manifest the live base does not have as listed (type, and size for files). */
function sampleMismatch(base: string, shipped: string): string | undefined {
  const live = new DirHandles(base);
  try {
    // Only the sample is read; the whole manifest is checked where it is read as B1.
    for (const { entry: e } of readRecords(shipped, { first: SAMPLE })) {
      const st = live.lstat(e.path);
      const where = `${base}/${displayPath(e.path)}`;
      const says = `the manifest lists a ${e.type}${e.type === 'file' ? ` of ${e.size} bytes` : ''}`;
      if (st === undefined) return `the shipped manifest ${shipped} does not describe base ${base}: ${where} is missing (${says})`;
      const type = entryType(st);
      if (type !== e.type || (type === 'file' && st.size !== e.size)) {
        return `the shipped manifest ${shipped} does not describe base ${base}: ${where} is a ${type}${type === 'file' ? ` of ${st.size} bytes` : ''} (${says})`;
      }
    }
    return undefined;
  } finally {
    live.close();
  }
}

/** Refuses an untrusted base (nothing has changed yet); force: only say so. */
export function assertBaseTrusted(t: BaseTrust, force: boolean, warn: (message: string) => void): void {
  const why = distrust(t);
  if (why === undefined) return;
  if (force) return warn(`${why}: going on (--force)`);
  throw new StateOverlayError('unsafe', `${why}: nothing was changed and nothing mounted; check the base, or use --force if it is right`, { path: t.base });
}
