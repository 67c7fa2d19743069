// The contents of upper files that may be copies of a base entry, hashed on libuv's thread pool as an
// index hashes the base (manifest/pool.ts: the addon's hashFiles reads and hashes in C, two cores at
// once, and closes each fd): opened here first, each checked to be the inode the walk saw. A symlink or
// a device takes its digest from its target or its number, on the main thread, as before.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { displayPath, type Digest, type RelPath } from '../model/entry.js';
import { ANSWER, FIELDS, HashPool, NOT_A_FILE } from '../manifest/pool.js';
import { FILE_FLAGS, closeQuietly, entryType } from '../tree/fsat.js';
import type { DirHandles } from '../tree/handles.js';

/** Files sent to the pool at once (as an index sends them). */
const BATCH = 32;

export interface ToHash {
  readonly path: RelPath;
  readonly st: { readonly mode: number; readonly ino: number; readonly rdev: number };
}

const whereOf = (h: DirHandles, rel: RelPath): string => `${h.root}/${displayPath(rel)}`;

/** The file at e.path opened for reading, which must be the inode the walk saw (else it was replaced). */
function openChecked(h: DirHandles, e: ToHash): number {
  const where = whereOf(h, e.path);
  let fd: number;
  try {
    fd = h.open(e.path, FILE_FLAGS);
  } catch (err) {
    throw ioError('hash', where, err);
  }
  try {
    const fst = fs.fstatSync(fd, { bigint: true });
    if (fst.ino !== BigInt(e.st.ino) || !fst.isFile()) throw new StateOverlayError('io', `${where}: replaced while being hashed`, { path: where });
    return fd;
  } catch (err) {
    closeQuietly(fd);
    throw err instanceof StateOverlayError ? err : ioError('hash', where, err);
  }
}

/** A file the pool could not hash: its errno code, or NOT_A_FILE when its fd no longer is a regular file. */
function poolError(h: DirHandles, rel: RelPath, error: string): StateOverlayError {
  const where = whereOf(h, rel);
  if (error === NOT_A_FILE) return new StateOverlayError('io', `${where}: replaced while being hashed`, { path: where });
  return ioError('hash', where, Object.assign(new Error(error), { code: error }));
}

/**
 * The digest of each entry (DirHandles.digest's, in the order given). Every batch sent is answered
 * before this returns or throws: the fds are the addon's until then. The first failure met is thrown.
 */
export async function digestsOnPool(h: DirHandles, entries: readonly ToHash[]): Promise<Digest[]> {
  const out: Digest[] = new Array<Digest>(entries.length);
  const pool = new HashPool();
  const answered: Promise<void>[] = [];
  let failure: unknown;
  let fds: number[] = [];
  let at: number[] = [];
  const send = (): void => {
    const batch = at;
    answered.push(
      pool.hash(fds).then((r) => {
        for (let k = 0; k < batch.length; k++) {
          const j = batch[k]!;
          const error = r.errors?.[k];
          if (error === undefined) out[j] = r.answers.toString('hex', k * ANSWER + FIELDS, (k + 1) * ANSWER);
          else failure ??= poolError(h, entries[j]!.path, error);
        }
      }),
    );
    fds = [];
    at = [];
  };
  try {
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j]!;
      if (entryType(e.st) !== 'file') {
        out[j] = h.digest(e.path, e.st);
        continue;
      }
      fds.push(openChecked(h, e));
      at.push(j);
      if (fds.length === BATCH) send();
    }
    if (fds.length > 0) send();
  } catch (err) {
    failure ??= err;
    for (const fd of fds) closeQuietly(fd);
  }
  await pool.close();
  await Promise.all(answered);
  if (failure !== undefined) throw failure;
  return out;
}
