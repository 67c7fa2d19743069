// Unmounts one overlay and its base bind; a busy mount fails with the processes holding it, unless lazy
// (then the overlay's device stays on record until nothing uses it).
import fs from 'node:fs';
import type { Overlay } from '../overlay/overlay.js';
import { StateOverlayError } from '../errors.js';
import { capStderr, tryRun } from '../exec.js';
import type { Log } from '../log/logger.js';
import { layoutFor, type Layout } from '../paths/layout.js';
import { ensureSafeDir } from '../state/state-dir.js';
import { parseInstance } from '../systemd/instance.js';
import { unmountAllAt } from './bind.js';
import { recordMount } from './detached.js';
import { describeHolders, findDeviceHolders, findHolders } from './holders.js';
import { mountsOfUpper } from './in-use.js';
import { mountsUnder, readMountinfo, type MountEntry } from './mountinfo.js';
import { ephemeralSource, foreignError, isOurs, mountStatus } from './overlay.js';

export interface UnmountOptions {
  /** Detach now, let the kernel finish when the last user leaves (umount -l). */
  readonly lazy?: boolean;
  /** Mode=ephemeral: keep the tmpfs that holds the upper (a reload mounts it again at once). */
  readonly keepEphemeral?: boolean;
}

/** The busy error: who holds the mount, by pid and command, and which mounts sit below it. */
export function busyError(target: string, detail: string): StateOverlayError {
  const holders = findHolders([target]);
  const subs = mountsUnder(readMountinfo(), target).map((m) => m.mountpoint);
  const parts = [
    holders.length > 0 ? `held by ${describeHolders(holders)}` : '',
    subs.length > 0 ? `mounts below it: ${subs.join(', ')}` : '',
  ].filter(Boolean);
  const why = parts.length > 0 ? parts.join('; ') : detail || 'the kernel reports it busy';
  // Not --lazy: a detached overlay stays alive while they use it, still writing into the upper, and
  // reconcile and mount refuse until they exit. At shutdown that no longer matters.
  return new StateOverlayError('busy', `${target} is busy: ${why} (stop them first; 'unmount --lazy' only at shutdown: a detached overlay keeps writing into the upper until they exit)`, { path: target });
}

/** umount(8) of the overlay mounted by e; a busy one fails naming what holds it. */
async function detach(layout: Layout, e: MountEntry, lazy: boolean, log: Log): Promise<void> {
  const target = e.mountpoint;
  // Lazily detached, the overlay lives on while used: its device on record is how its users are found
  // (a mount by an older version has no record yet).
  if (lazy) {
    ensureSafeDir(layout.root, layout.runDir, layout.runDir);
    recordMount(layout, e);
  }
  const r = await tryRun('umount', lazy ? ['-l', target] : [target]);
  if (r.exitCode !== 0) {
    if (/busy/i.test(r.stderr)) throw busyError(target, capStderr(r.stderr));
    throw new StateOverlayError('exec', `cannot unmount ${target}: ${capStderr(r.stderr) || `umount exit status ${r.exitCode}`}`, { path: target });
  }
  const holders = lazy ? findDeviceHolders(e.dev, layout.upper) : [];
  if (holders.length > 0) {
    log.warn({ event: 'warning', message: `${target} detached while in use by ${describeHolders(holders)}: until they exit, reconcile and mount of ${layout.name} refuse`, path: target });
  }
}

/**
 * The base bind after the overlay. It is private and only ours: if something still reads through it (a
 * manifest build being stopped), detaching it lazily is safe, nothing propagates from it.
 */
async function releaseBaseBind(baseBind: string, lazy: boolean): Promise<void> {
  if (!fs.existsSync(baseBind)) return;
  try {
    await unmountAllAt(baseBind, lazy);
  } catch {
    // Any failure (busy): detach it lazily; if that fails too, its error is the one reported.
    await unmountAllAt(baseBind, true);
  }
}

/**
 * The ephemeral upper's own tmpfs, once nothing is mounted from it: what it held was this mount's alone
 * (Mode=ephemeral), and the next start begins from the image again. A lazy unmount keeps it: the detached
 * overlay still writes into it.
 */
async function releaseEphemeral(ov: Overlay): Promise<void> {
  const dir = ov.layout.runDir;
  if (!fs.existsSync(dir)) return;
  const real = fs.realpathSync(dir);
  const ours = readMountinfo().filter((m) => m.mountpoint === real && m.fstype === 'tmpfs' && m.source === ephemeralSource(ov.name));
  if (ours.length === 0) return;
  const r = await tryRun('umount', [real]);
  if (r.exitCode !== 0) throw new StateOverlayError(/busy/i.test(r.stderr) ? 'busy' : 'exec', `cannot unmount the ephemeral upper's tmpfs ${real}: ${capStderr(r.stderr) || `umount exit status ${r.exitCode}`}`, { path: real });
}

/**
 * Not shown at its mountpoint is not "not mounted" when the upper is still mounted: a mount over it (or
 * over a parent) hides it, or it is mounted under another path; umount of the mountpoint would miss it.
 */
function assertNotHidden(ov: Overlay): void {
  const m = mountsOfUpper(readMountinfo(), ov.layout.upper)[0];
  if (m === undefined) return;
  const hidden = fs.existsSync(ov.layout.target) && m.mountpoint === fs.realpathSync(ov.layout.target);
  const why = hidden
    ? `overlay ${ov.name} is mounted on ${m.mountpoint} but hidden there by a mount over it or over a parent: unmount that one first`
    : `overlay ${ov.name} is mounted on ${m.mountpoint}, not on ${ov.layout.target}: unmount it there`;
  throw new StateOverlayError('mounted', why, { path: m.mountpoint });
}

/** Unmounts NAME's overlay then its base bind; returns false when the overlay was not mounted. */
export async function unmountOverlay(ov: Overlay, log: Log, opts: UnmountOptions = {}): Promise<boolean> {
  const lazy = opts.lazy === true;
  const status = mountStatus(ov);
  if (status.state === 'foreign') throw foreignError(ov, status.entry);
  if (status.state === 'unmounted') assertNotHidden(ov);
  if (status.state === 'mounted') await detach(ov.layout, status.entry, lazy, log);
  await releaseBaseBind(ov.layout.baseBind, lazy);
  if (ov.config.mode === 'ephemeral' && !lazy && opts.keepEphemeral !== true) await releaseEphemeral(ov);
  const done = status.state === 'mounted';
  if (done) log.info({ event: 'unmount.done', name: ov.name, target: ov.layout.target, lazy });
  return done;
}

/**
 * Unmounts NAME without its configuration (it cannot be read, and a unit's stop must still work): the
 * overlays whose upper and work are those of NAME's state dir or run dir (persistent or ephemeral),
 * wherever Path= put them, then the base bind. Returns where they were mounted (none: NAME's default
 * mountpoint) and whether anything was unmounted.
 */
export async function unmountRecorded(root: string, name: string, log: Log, opts: UnmountOptions = {}): Promise<{ target: string; changed: boolean }> {
  const lazy = opts.lazy === true;
  const { mountpoint } = parseInstance(name);
  const layouts = [layoutFor(root, name, mountpoint, false), layoutFor(root, name, mountpoint, true)];
  const ours = readMountinfo().flatMap((e) => layouts.filter((l) => isOurs(e, l.upper, l.work)).map((l) => ({ e, l })));
  for (const { e, l } of ours) await detach(l, e, lazy, log);
  await releaseBaseBind(layouts[0]!.baseBind, lazy);
  const target = ours[0]?.e.mountpoint ?? layouts[0]!.target;
  if (ours.length > 0) log.info({ event: 'unmount.done', name, target, lazy });
  return { target, changed: ours.length > 0 };
}
