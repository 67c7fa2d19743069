// Checks made before anything is mounted, so that a refusal leaves nothing behind (DESIGN section 5).
import fs from 'node:fs';
import { ioError, StateOverlayError } from '../errors.js';
import { execFailure, tryRun } from '../exec.js';
import type { Overlay } from '../overlay/overlay.js';

export const OVERLAYFS_MAGIC = 0x794c7630;
export const PROC_FILESYSTEMS = '/proc/filesystems';

/** True when /proc/filesystems text lists overlay (`nodev\toverlay`), matched as a whole field. */
export function hasOverlayFs(text: string): boolean {
  return text.split('\n').some((line) => line.split('\t').at(-1)?.trim() === 'overlay');
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw ioError('cannot read', file, err);
  }
}

/** Fails unless the kernel can mount overlayfs; loads the module once if it is not registered yet. */
export async function checkOverlaySupport(procFilesystems = PROC_FILESYSTEMS): Promise<void> {
  if (hasOverlayFs(readText(procFilesystems))) return;
  // /proc/filesystems is the answer either way; a modprobe that failed or could not run is kept as the cause.
  const args = ['-q', 'overlay'];
  const modprobe = await tryRun('modprobe', args).then(
    (r) => (r.exitCode === 0 ? undefined : execFailure('modprobe', args, r)),
    (err: unknown) => err,
  );
  if (hasOverlayFs(readText(procFilesystems))) return;
  throw new StateOverlayError('unsupported', `the kernel has no overlay filesystem (${procFilesystems} does not list overlay, and 'modprobe overlay' did not add it)`, {
    path: procFilesystems,
    cause: modprobe,
  });
}

export const within = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : dir + '/');

/** The mountpoint: an existing real directory, not a symlink. */
export function checkMountpoint(target: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StateOverlayError('usage', `mountpoint ${target} does not exist`, { path: target, cause: err });
    throw ioError('cannot inspect mountpoint', target, err);
  }
  if (st.isSymbolicLink()) throw new StateOverlayError('unsafe', `mountpoint ${target} is a symlink, not a directory`, { path: target });
  if (!st.isDirectory()) throw new StateOverlayError('usage', `mountpoint ${target} is not a directory`, { path: target });
}

/** The base: an existing directory; returned canonical. */
export function checkBase(base: string): string {
  let real: string;
  try {
    real = fs.realpathSync(base);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StateOverlayError('usage', `base ${base} does not exist`, { path: base, cause: err });
    throw ioError('cannot resolve base', base, err);
  }
  if (!fs.statSync(real).isDirectory()) throw new StateOverlayError('usage', `base ${base} is not a directory`, { path: base });
  return real;
}

/**
 * The directories an overlay is made of, checked before anything reads them or creates its state (a
 * NAME with a typo must leave no state dir behind): the mountpoint, and a separate Base=. Commands that
 * only read the base (diff, index) pass mountpoint: false; the mountpoint is still checked when it is the base.
 */
export function checkOverlayDirs(ov: Overlay, opts: { mountpoint?: boolean } = {}): void {
  const separateBase = ov.config.base !== null;
  if (opts.mountpoint !== false || !separateBase) checkMountpoint(ov.layout.target);
  if (separateBase) checkBase(ov.base);
}

/** The base must not lie in the overlay's own data, nor hold it (overlapping layers). */
export function checkBaseApart(base: string, dirs: { stateDir: string; upper: string; work: string }): void {
  for (const [what, dir] of [['upper', dirs.upper], ['work', dirs.work], ['state', dirs.stateDir]] as const) {
    if (within(base, dir)) throw new StateOverlayError('usage', `base ${base} lies inside the ${what} directory ${dir}`, { path: base });
    if (within(dir, base)) throw new StateOverlayError('usage', `base ${base} contains the ${what} directory ${dir}: the layers would overlap`, { path: base });
  }
}

/** Upper and work: the same filesystem, and not overlayfs (an upper cannot be an overlay). */
export function checkUpperWork(upper: string, work: string): void {
  let su: fs.Stats, sw: fs.Stats;
  try {
    su = fs.statSync(upper);
    sw = fs.statSync(work);
  } catch (err) {
    throw ioError('cannot inspect', (err as NodeJS.ErrnoException).path ?? upper, err);
  }
  if (su.dev !== sw.dev) {
    throw new StateOverlayError('unsupported', `upper ${upper} and work ${work} are on different filesystems: overlayfs needs both on one`, { path: work });
  }
  let fsType: number;
  try {
    // Sync: the promise API would load node:fs/promises (and what it loads) into every start for one call.
    fsType = fs.statfsSync(upper).type;
  } catch (err) {
    throw ioError('cannot inspect the filesystem of', upper, err);
  }
  if (fsType === OVERLAYFS_MAGIC) {
    throw new StateOverlayError('unsupported', `upper ${upper} is on an overlay filesystem, which cannot hold an overlay's upper layer`, { path: upper });
  }
}
