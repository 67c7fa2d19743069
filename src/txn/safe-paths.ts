// The overlay's own paths, checked before any offline change: the base apart from the overlay's data, and no
// symlink planted for the upper, the manifests or the backups.
import fs from 'node:fs';
import { ioError, StateOverlayError } from '../errors.js';
import { checkBaseApart } from '../mount/preflight.js';
import type { Overlay } from '../overlay/overlay.js';

/** Refuses a base that lies in the overlay's own data or holds it, and symlinks planted for the upper, manifests or backups. */
export function assertSafePaths(ov: Overlay): void {
  const { layout } = ov;
  let base = ov.base;
  try {
    base = fs.realpathSync(base);
  } catch (err) {
    // A missing base is reported where it is read; anything else is an error here.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateOverlayError('io', `cannot resolve base ${base}: ${(err as NodeJS.ErrnoException).code ?? err}`, { path: base, cause: err });
  }
  checkBaseApart(base, { stateDir: layout.stateDir, upper: layout.upper, work: layout.work });
  for (const dir of [layout.upper, layout.manifestsDir, layout.backupsDir]) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw ioError('lstat', dir, err);
    }
    if (st.isSymbolicLink()) throw new StateOverlayError('unsafe', `${dir} is a symlink: refusing to keep overlay state through it`, { path: dir });
  }
}
