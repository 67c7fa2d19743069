// Copies a shipped manifest into the state dir: header checked, temp → fsync → rename → fsync dir.
// The temps of copies killed before their rename go first: a host whose base ships its manifest never
// builds one, whose build would remove them.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import { fsyncDir, removeStaleTemps } from '../state/atomic.js';
import { MANIFEST_TEMP, manifestCount, manifestTemp } from './store.js';

/** Returns the entry count its header declares; a manifest that cannot be read is refused, naming it. */
export function copyManifest(from: string, to: string): { entries: number; bytes: number } {
  const tmp = manifestTemp(to);
  try {
    removeStaleTemps(path.dirname(to), MANIFEST_TEMP);
    fs.copyFileSync(from, tmp);
    // The copy is root's only whatever the shipped file's mode (see build.ts).
    fs.chmodSync(tmp, 0o600);
    const entries = manifestCount(tmp);
    const fd = fs.openSync(tmp, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, to);
    fsyncDir(path.dirname(to));
    return { entries, bytes: fs.statSync(to).size };
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err instanceof StateOverlayError ? err : ioError(`cannot copy the manifest ${from} to`, to, err);
  }
}
