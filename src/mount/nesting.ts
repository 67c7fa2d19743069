// State-overlay overlays of one root do not nest: an overlay mounted over another hides it (writes meant
// for the inner one land in the outer upper, and the inner one can no longer be unmounted by its path);
// one mounted inside another takes its lower from the outer overlay's merged view.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError } from '../errors.js';
import type { Overlay } from '../overlay/overlay.js';
import { RUN_ROOT, underRoot } from '../paths/layout.js';
import { STATE_ROOT } from '../systemd/instance.js';
import { fileId, resolveLayer, sameId, type FileId } from './identity.js';
import type { MountEntry } from './mountinfo.js';
import { within } from './preflight.js';

/**
 * The NAME of a state-overlay overlay of this root, or undefined: its upperdir is STATE_ROOT/NAME/upper
 * or RUN_ROOT/NAME/upper (ephemeral), the state and run roots judged by identity.
 */
function stateOverlayName(e: MountEntry, roots: readonly FileId[]): string | undefined {
  const upper = e.fstype === 'overlay' ? resolveLayer(e.superOptions.get('upperdir'))?.path : undefined;
  if (upper === undefined || path.basename(upper) !== 'upper') return undefined;
  const nameDir = path.dirname(upper);
  // The upper resolved, so its grandparent does: compared with the state and run roots by identity.
  const parent = fileId(path.dirname(nameDir));
  return roots.some((r) => sameId(parent, r)) ? path.basename(nameDir) : undefined;
}

/** Refuses to mount ov over, or inside, another state-overlay overlay of its root, naming it. */
export function assertNotNested(ov: Overlay, entries: readonly MountEntry[]): void {
  const { layout } = ov;
  const roots = [STATE_ROOT, RUN_ROOT].map((d) => fileId(underRoot(layout.root, d))).filter((id) => id !== undefined);
  if (roots.length === 0) return;
  const target = fileId(layout.target) === undefined ? layout.target : fs.realpathSync(layout.target);
  for (const e of entries) {
    if (e.mountpoint === target) continue; // on the mountpoint itself: ours, or foreign (refused as such)
    const name = stateOverlayName(e, roots);
    if (name === undefined || name === ov.name) continue;
    const nest = (message: string) => new StateOverlayError('mounted', `cannot mount ${ov.name} on ${target}: ${message}, and state-overlay overlays do not nest: unmount ${name} first`, { path: target });
    if (within(e.mountpoint, target)) throw nest(`overlay ${name} is mounted on ${e.mountpoint}, below it`);
    if (within(target, e.mountpoint)) throw nest(`it lies in overlay ${name}, mounted on ${e.mountpoint}`);
  }
}
