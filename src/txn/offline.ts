// Reconcile, vacuum and restore change the upper behind overlayfs' back: only while nothing mounts it.
import { StateOverlayError } from '../errors.js';
import { assertNotDetachedInUse } from '../mount/detached.js';
import { overlayShownAt } from '../mount/identity.js';
import { mountsOfUpper } from '../mount/in-use.js';
import { readMountinfo, type MountEntry } from '../mount/mountinfo.js';
import type { Layout } from '../paths/layout.js';
import type { Journal } from './journal.js';
import { assertSafePaths } from './safe-paths.js';
import type { OverlaySession } from './session.js';

/** Why the overlay cannot be changed offline now, or undefined when it can. */
export function onlineReason(entries: readonly MountEntry[], layout: Layout, baseIsTarget: boolean): string | undefined {
  // Ours wherever it is mounted (a bind of it, a --root spelled another way): its upperdir is our upper.
  const ours = mountsOfUpper(entries, layout.upper)[0];
  if (ours) return `overlay ${layout.name} is mounted on ${ours.mountpoint}: unmount it first (this runs offline)`;
  if (baseIsTarget && overlayShownAt(entries, layout.target)) return `${layout.target} has an overlay mounted on it that hides the base: unmount it first`;
  return undefined;
}

/** Refuses while anything mounts the upper: an overlay in the mount table, or one detached and still in use. */
export function assertOffline(layout: Layout, baseIsTarget: boolean, entries: readonly MountEntry[] = readMountinfo()): void {
  const why = onlineReason(entries, layout, baseIsTarget);
  if (why) throw new StateOverlayError('mounted', why, { path: layout.target });
  assertNotDetachedInUse(layout, entries);
}

/**
 * The frame of every offline change to an upper (reconcile, vacuum, restore): safe paths, nothing mounting
 * the upper, and an interrupted transaction (finished by `finish`) before anything else. A dry run only
 * reports an interrupted transaction. Returns whether one was finished.
 */
export async function goOffline(s: OverlaySession, opts: { dryRun?: boolean }, finish: (s: OverlaySession, j: Journal) => Promise<void>): Promise<boolean> {
  const ov = s.overlay;
  assertSafePaths(ov);
  assertOffline(ov.layout, ov.config.base === null);
  const j = s.journal;
  if (j === null) return false;
  if (opts.dryRun) {
    throw new StateOverlayError('busy', `an interrupted reconcile must be finished first (${ov.layout.journal}): run 'state-overlay reconcile ${ov.name}'`, { path: ov.layout.journal });
  }
  await finish(s, j);
  return true;
}
