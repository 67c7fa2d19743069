// Adopts an ostree state overlay (/var/ostree/state-overlays/NAME/{upper,work}) on first run: moved, never copied.
import fs from 'node:fs';
import path from 'node:path';
import type { Overlay } from '../overlay/overlay.js';
import { ioError, StateOverlayError } from '../errors.js';
import type { Log } from '../log/logger.js';
import { readMountinfo } from '../mount/mountinfo.js';
import { mountsOfUpper } from '../mount/in-use.js';
import { underRoot } from '../paths/layout.js';
import { ensureStateDir } from '../state/state-dir.js';

export const OSTREE_STATE_ROOT = '/var/ostree/state-overlays';

export function ostreeStateDir(ov: Overlay): string {
  return underRoot(ov.layout.root, path.posix.join(OSTREE_STATE_ROOT, ov.name));
}

function isDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError('lstat', p, err);
  }
}

/**
 * Moves ostree's upper and work into our state dir when we have no upper yet. No state is recorded:
 * the base the upper was made against is unknown, so the first reconcile applies UnknownBase= (rule 10).
 * Returns the directory migrated from, or null when there was nothing to do.
 */
export function migrateOstree(ov: Overlay, log: Log): string | null {
  const { layout } = ov;
  if (ov.config.mode === 'ephemeral') return null;
  const from = ostreeStateDir(ov);
  const oldUpper = path.join(from, 'upper');
  if (!isDir(oldUpper) || fs.existsSync(layout.upper)) return null;
  const real = fs.realpathSync(oldUpper);
  const inUse = mountsOfUpper(readMountinfo(), real)[0];
  if (inUse) {
    throw new StateOverlayError('busy', `${oldUpper} is the upper of the overlay mounted on ${inUse.mountpoint}: stop ostree-state-overlay@${ov.name}.service and unmount it first`, {
      path: oldUpper,
    });
  }
  ensureStateDir(layout);
  try {
    fs.renameSync(oldUpper, layout.upper);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV') {
      throw new StateOverlayError('unsupported', `cannot move ${oldUpper} to ${layout.upper}: they are on different filesystems; move it by hand (cp -a, keeping xattrs) and run again`, {
        path: oldUpper,
        cause: err,
      });
    }
    throw ioError(`cannot move ${oldUpper} to`, layout.upper, err);
  }
  // The old work dir may hold kernel leftovers (work/work, owned by root, mode 000): it is not needed.
  fs.rmSync(path.join(from, 'work'), { recursive: true, force: true });
  try {
    fs.rmdirSync(from);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // something else lives there: leave it
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw ioError('remove directory', from, err);
  }
  log.info({ event: 'migrate.ostree', name: ov.name, from: oldUpper, to: layout.upper });
  return oldUpper;
}
