// Mounts one overlay: checks first, then the private base bind, then the overlay; undoes its own mounts on failure.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import type { Overlay } from '../overlay/overlay.js';
import { ioError, StateOverlayError } from '../errors.js';
import { tryRun } from '../exec.js';
import { mount } from '../native/syscalls.js';
import type { Log } from '../log/logger.js';
import { bindBase } from './bind.js';
import { fileId, layerIs, overlayShownAt } from './identity.js';
import { assertNotDetachedInUse, recordMount } from './detached.js';
import { assertUpperFree } from './in-use.js';
import { assertNotNested } from './nesting.js';
import { readMountinfo, type MountEntry } from './mountinfo.js';
import { overlayOptions, sameLayer } from './options.js';
import { lowersFor, refusalHint } from './stacking.js';
import { ensureSafeDir, ensureStateDir } from '../state/state-dir.js';
import { copySelinuxLabel } from '../tree/xattr.js';
import { checkBase, checkBaseApart, checkMountpoint, checkOverlaySupport, checkUpperWork } from './preflight.js';

export type MountStatus =
  | { readonly state: 'mounted'; readonly entry: MountEntry }
  | { readonly state: 'unmounted' }
  | { readonly state: 'foreign'; readonly entry: MountEntry };

/** p resolved, or undefined when it does not exist (yet). */
function real(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot resolve', p, err);
  }
}

/** An overlay is ours when its upperdir and workdir are our upper and work: the same directories, by identity or by whole-field path. */
export function isOurs(e: MountEntry, upper: string, work: string): boolean {
  const is = (option: 'upperdir' | 'workdir', dir: string) => sameLayer(e.superOptions.get(option), dir) || layerIs(e, option, fileId(dir));
  return e.fstype === 'overlay' && is('upperdir', upper) && is('workdir', work);
}

/** Whether NAME is mounted: ours shown at the mountpoint, nothing (or its own base filesystem), or a foreign overlay. */
export function mountStatus(ov: Overlay, entries: readonly MountEntry[] = readMountinfo()): MountStatus {
  const top = overlayShownAt(entries, ov.layout.target);
  if (!top) return { state: 'unmounted' };
  const upper = real(ov.layout.upper) ?? ov.layout.upper;
  const work = real(ov.layout.work) ?? ov.layout.work;
  return isOurs(top, upper, work) ? { state: 'mounted', entry: top } : { state: 'foreign', entry: top };
}

export function foreignError(ov: Overlay, e: MountEntry): StateOverlayError {
  const upper = e.superOptions.get('upperdir') ?? 'none';
  return new StateOverlayError('mounted', `${ov.layout.target} already has an overlay that is not ${ov.name}'s (upperdir=${upper}, source ${e.source}): unmount it first`, {
    path: ov.layout.target,
  });
}

export interface MountOptions {
  /** For tests: a stand-in for /proc/filesystems. */
  readonly procFilesystems?: string;
}

/** The source name of an overlay's own ephemeral tmpfs, as mountinfo shows it. */
export const ephemeralSource = (name: string): string => `state-overlay-${name}`;

/**
 * Ephemeral mode: upper and work live on a tmpfs of their own at the run dir, EphemeralSize= big, so that
 * a writer cannot fill /run (which systemd itself needs); kept from a reload to the next, unmounted by `unmount`.
 */
async function ensureEphemeralTmpfs(ov: Overlay, undo: string[]): Promise<void> {
  const dir = ov.layout.runDir;
  ensureSafeDir(ov.layout.root, dir, dir);
  const real = fs.realpathSync(dir);
  if (readMountinfo().some((m) => m.mountpoint === real && m.fstype === 'tmpfs' && m.source === ephemeralSource(ov.name))) return;
  try {
    mount(ephemeralSource(ov.name), dir, 'tmpfs', ['nosuid', 'nodev'], `mode=0700,size=${ov.config.ephemeralSize}`);
  } catch (err) {
    throw ioError(`cannot mount the tmpfs of EphemeralSize=${ov.config.ephemeralSize} on`, dir, err);
  }
  undo.push(dir);
}

/**
 * The upper's root directory gives the merged root its mode and owner: keep them equal to the base's,
 * or /opt would show up 0700. The upper itself must be a real directory, not a symlink.
 */
function ensureUpperRoot(upper: string, base: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(upper);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot inspect', upper, err);
  }
  if (st === undefined) {
    try {
      fs.mkdirSync(upper, { mode: 0o700 });
    } catch (err) {
      throw ioError('cannot create directory', upper, err);
    }
  } else if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new StateOverlayError('unsafe', `${upper} is not a directory${st.isSymbolicLink() ? ' (a symlink)' : ''}: refusing to use it as the upper`, { path: upper });
  }
  const b = fs.statSync(base);
  const u = fs.statSync(upper);
  try {
    if (u.uid !== b.uid || u.gid !== b.gid) fs.chownSync(upper, b.uid, b.gid);
    if ((u.mode & 0o7777) !== (b.mode & 0o7777)) fs.chmodSync(upper, b.mode & 0o7777);
  } catch (err) {
    throw ioError(`cannot give the mode and owner of ${base} to`, upper, err);
  }
  // SELinux hosts: files created in the upper inherit its label; it must be the mountpoint's.
  copySelinuxLabel(base, upper);
}

/** Unmounts what a failed mount made, innermost first; stops at one that stays (what is below still serves it). */
/**
 * Unmounts what a failed mount left, newest first, every one of them: a umount that fails (a transient
 * EBUSY from a process scanning the tree, a fault in umount's own bookkeeping) is retried, then detached
 * lazily. Nothing but this run has used these mounts yet, and a lazily detached overlay someone still
 * holds is what mount and reconcile already refuse with its holders named.
 */
async function undoMounts(undo: string[]): Promise<void> {
  for (const m of undo.reverse()) {
    let ok = false;
    for (let attempt = 0; attempt < UNDO_ATTEMPTS && !ok; attempt++) {
      if (attempt > 0) await setTimeout(UNDO_BACKOFF_MS * attempt);
      ok = (await tryRun('umount', [m])).exitCode === 0;
    }
    if (!ok) await tryRun('umount', ['-l', m]);
  }
}
const UNDO_ATTEMPTS = 4;
const UNDO_BACKOFF_MS = 50;

/**
 * What the mount table must allow before NAME is mounted: nothing else on its upper (mounted, or detached
 * and still used), no nesting with another state-overlay overlay, and a base within overlayfs' stacking depth. run checks it before it reconciles,
 * so a refusal there changes nothing.
 */
export function assertMountable(ov: Overlay, entries: readonly MountEntry[] = readMountinfo()): void {
  assertUpperFree(entries, ov.layout);
  assertNotDetachedInUse(ov.layout, entries);
  assertNotNested(ov, entries);
  // A base too deep in overlays to mount over, and not to be flattened, is refused before run reconciles.
  if (fs.existsSync(ov.base)) lowersFor(entries, ov.base);
}

/** The kernel's refusal of the overlay: mount(2) returns only the errno, overlayfs logs why in the kernel log. */
function overlayRefused(target: string, err: unknown, hint: string): StateOverlayError {
  const code = (err as NodeJS.ErrnoException).code;
  const log = code === 'EPERM' || code === 'EACCES' ? '' : ' (overlayfs logs its reason in the kernel log: dmesg)';
  return new StateOverlayError('io', `cannot mount the overlay on ${target}: ${code ?? String(err)}${log}${hint}`, { path: target, cause: err });
}

/** Mounts the overlay NAME; returns false when it was already mounted (nothing done). */
export async function mountOverlay(ov: Overlay, log: Log, opts: MountOptions = {}): Promise<boolean> {
  const { layout } = ov;
  const entries = readMountinfo();
  const status = mountStatus(ov, entries);
  if (status.state === 'mounted') {
    log.info({ event: 'mount.already', name: ov.name, target: layout.target });
    return false;
  }
  if (status.state === 'foreign') throw foreignError(ov, status.entry);

  await checkOverlaySupport(opts.procFilesystems);
  checkMountpoint(layout.target);
  const base = checkBase(ov.base);
  assertMountable(ov, entries);
  const undo: string[] = [];
  try {
    if (ov.config.mode === 'ephemeral') await ensureEphemeralTmpfs(ov, undo);
    ensureStateDir(layout);
    ensureSafeDir(layout.root, layout.runDir, layout.runDir);
    ensureSafeDir(layout.root, layout.work, path.dirname(layout.work));
    ensureUpperRoot(layout.upper, base);
    const upper = fs.realpathSync(layout.upper);
    const work = fs.realpathSync(layout.work);
    checkBaseApart(base, { stateDir: fs.realpathSync(layout.stateDir), upper, work });
    checkUpperWork(upper, work);
    const target = fs.realpathSync(layout.target);
    await bindBase(base, layout.baseBind, layout.root, layout.runDir);
    undo.push(layout.baseBind);
    const lower = fs.realpathSync(layout.baseBind);
    // Within the kernel's stacking depth: the bind, or the layers of the overlay the base lies on.
    const { lowers, flattened } = lowersFor(readMountinfo(), lower, base);
    for (const l of flattened ? lowers : []) checkBaseApart(l, { stateDir: fs.realpathSync(layout.stateDir), upper, work });
    try {
      mount('overlay', target, 'overlay', [], overlayOptions({ lowers, upper, work }));
    } catch (err) {
      throw overlayRefused(target, err, refusalHint(readMountinfo(), lower));
    }
    // From here a failure (the mount table read back, the record written) unmounts the overlay too: the
    // base bind alone would leave an overlay whose lower no run can reach.
    undo.push(target);
    const after = mountStatus(ov);
    if (after.state !== 'mounted') {
      throw new StateOverlayError('internal', `mount reported success but ${target} does not show ${ov.name}'s overlay in /proc/self/mountinfo`, { path: target });
    }
    recordMount(layout, after.entry);
    log.info({ event: 'mount.done', name: ov.name, target, lower, upper, ...(flattened ? { flattened: { overlay: flattened, lowers: [...lowers] } } : {}) });
    return true;
  } catch (err) {
    await undoMounts(undo);
    if (err instanceof StateOverlayError) throw err;
    throw ioError('cannot prepare the overlay of', layout.target, err);
  }
}
