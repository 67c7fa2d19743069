// The private, read-only bind of the base under /run: the base stays reachable once the overlay hides it.
import { StateOverlayError } from '../errors.js';
import { execFailure, run, tryRun } from '../exec.js';
import { propagation, readMountinfo, topMountAt } from './mountinfo.js';
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

/** The argv of mount(8) for the base bind: one call binds, remounts read-only and makes the bind private. */
export function bindMountArgs(base: string, bindPath: string): string[] {
  return ['--bind', '-o', 'ro', '--make-private', base, bindPath];
}

/**
 * Binds base at bindPath, read-only and private. Private comes before anything is mounted over the
 * base: with shared propagation the overlay mounted on the base would show up in the bind too.
 * mount(8) (util-linux >= 2.27) does the bind, the propagation change and the read-only remount as
 * separate mount(2) calls of one invocation, so the result is checked in mountinfo, not assumed.
 */
export async function bindBase(base: string, bindPath: string, root: string, runDir: string): Promise<void> {
  // A stale bind first (a run killed after binding): its read-only root would fail the mode check below.
  await unmountAllAt(bindPath);
  ensureSafeDir(root, bindPath, runDir);
  const r = await tryRun('mount', bindMountArgs(base, bindPath));
  try {
    if (r.exitCode !== 0) throw execFailure('mount', bindMountArgs(base, bindPath), r);
    const top = topMountAt(readMountinfo(), bindPath);
    if (!top || propagation(top) !== 'private' || !top.mountOptions.includes('ro')) {
      const got = top ? `${propagation(top)}, ${top.mountOptions.join(',')}` : 'no mount';
      throw new StateOverlayError('internal', `base bind ${bindPath} is not private and read-only after mounting (${got})`, { path: bindPath });
    }
  } catch (err) {
    // A failing mount(8) may have done its first steps (the bind) before the one that failed. Best
    // effort: the mount's error is the one to report, and a bind left behind is undone first thing by
    // the next bindBase.
    await unmountAllAt(bindPath).catch(() => undefined);
    throw err;
  }
}
