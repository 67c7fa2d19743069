// The private, read-only bind of the base under /run: the base stays reachable once the overlay hides it.
import { StateOverlayError } from '../errors.js';
import { run, tryRun } from '../exec.js';
import { mountsAt, propagation, readMountinfo, topMountAt } from './mountinfo.js';
import { ensureSafeDir } from '../state/state-dir.js';

/** Unmounts every mount stacked at exactly this mountpoint (a stale bind from an earlier run). */
export async function unmountAllAt(mountpoint: string, lazy = false): Promise<number> {
  let n = 0;
  while (topMountAt(readMountinfo(), mountpoint)) {
    await run('umount', lazy ? ['-l', mountpoint] : [mountpoint]);
    n++;
  }
  return n;
}

/**
 * Binds base at bindPath, makes it private, then read-only. Private comes before anything is mounted
 * over the base: with shared propagation the overlay mounted on the base would show up in the bind too.
 */
export async function bindBase(base: string, bindPath: string, root: string, runDir: string): Promise<void> {
  // A stale bind first (a run killed after binding): its read-only root would fail the mode check below.
  await unmountAllAt(bindPath);
  ensureSafeDir(root, bindPath, runDir);
  await run('mount', ['--bind', base, bindPath]);
  try {
    await run('mount', ['--make-private', bindPath]);
    await run('mount', ['-o', 'remount,bind,ro', bindPath]);
    const top = topMountAt(readMountinfo(), bindPath);
    if (!top || propagation(top) !== 'private' || !top.mountOptions.includes('ro')) {
      const got = top ? `${propagation(top)}, ${top.mountOptions.join(',')}` : 'no mount';
      throw new StateOverlayError('internal', `base bind ${bindPath} is not private and read-only after mounting (${got})`, { path: bindPath });
    }
  } catch (err) {
    await tryRun('umount', [bindPath]);
    throw err;
  }
}

/** True when something is mounted at bindPath. */
export function isBound(bindPath: string): boolean {
  return mountsAt(readMountinfo(), bindPath).length > 0;
}
