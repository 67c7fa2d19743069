// The private, read-only bind of the base under /run: the base stays reachable once the overlay hides it.
import { StateOverlayError, ioError } from '../errors.js';
import { run } from '../exec.js';
import { mount, type MountFlag } from '../native/syscalls.js';
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

/**
 * The mount(2) calls of the base bind, as mount(8) makes them for `--bind -o ro --make-private`: the
 * bind, private before anything is mounted over the base (with shared propagation the overlay mounted on
 * the base would show up in the bind too), then read-only (a bind takes the flags of its source first).
 */
const BIND_STEPS: readonly { readonly step: string; readonly source: 'base' | null; readonly flags: readonly MountFlag[] }[] = [
  { step: 'bind', source: 'base', flags: ['bind'] },
  { step: 'make private', source: null, flags: ['private'] },
  { step: 'remount read-only', source: null, flags: ['remount', 'bind', 'rdonly'] },
];

/** Binds base at bindPath, read-only and private; the result is checked in mountinfo, not assumed. */
export async function bindBase(base: string, bindPath: string, root: string, runDir: string): Promise<void> {
  // A stale bind first (a run killed after binding): its read-only root would fail the mode check below.
  await unmountAllAt(bindPath);
  ensureSafeDir(root, bindPath, runDir);
  try {
    for (const { step, source, flags } of BIND_STEPS) {
      try {
        mount(source === 'base' ? base : null, bindPath, null, flags, null);
      } catch (err) {
        throw ioError(`cannot bind ${base} read-only and private (${step}) at`, bindPath, err);
      }
    }
    const top = topMountAt(readMountinfo(), bindPath);
    if (!top || propagation(top) !== 'private' || !top.mountOptions.includes('ro')) {
      const got = top ? `${propagation(top)}, ${top.mountOptions.join(',')}` : 'no mount';
      throw new StateOverlayError('internal', `base bind ${bindPath} is not private and read-only after mounting (${got})`, { path: bindPath });
    }
  } catch (err) {
    // A later step may fail after the bind is made. Best effort: the mount's error is the one to report,
    // and a bind left behind is undone first thing by the next bindBase.
    await unmountAllAt(bindPath).catch(() => undefined);
    throw err;
  }
}
