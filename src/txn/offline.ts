// Reconcile, vacuum and restore change the upper behind overlayfs' back: only while nothing mounts it.
import { StateOverlayError } from '../errors.js';
import { readMountinfo, type MountEntry } from '../mount/mountinfo.js';
import { sameLayer } from '../mount/options.js';
import type { Layout } from '../paths/layout.js';

/** Why the overlay cannot be changed offline now, or undefined when it can. */
export function onlineReason(entries: readonly MountEntry[], layout: Layout, baseIsTarget: boolean): string | undefined {
  const ours = entries.find((e) => e.fstype === 'overlay' && sameLayer(e.superOptions.get('upperdir'), layout.upper));
  if (ours) return `overlay ${layout.name} is mounted on ${ours.mountpoint}: unmount it first (this runs offline)`;
  if (baseIsTarget) {
    const over = entries.find((e) => e.mountpoint === layout.target && e.fstype === 'overlay');
    if (over) return `${layout.target} has an overlay mounted on it that hides the base: unmount it first`;
  }
  return undefined;
}

export function assertOffline(layout: Layout, baseIsTarget: boolean, entries: readonly MountEntry[] = readMountinfo()): void {
  const why = onlineReason(entries, layout, baseIsTarget);
  if (why) throw new StateOverlayError('mounted', why, { path: layout.target });
}
