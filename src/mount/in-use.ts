// Who uses an overlay's upper: the overlays mounted on it anywhere in the mount table, found by the
// upper's identity (a bind of the root, a symlinked --root or an escaped option all name it differently).
import { StateOverlayError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { fileId, layerIs } from './identity.js';
import type { MountEntry } from './mountinfo.js';
import { sameLayer } from './options.js';

/** The overlay mounts whose upperdir is this upper: the same directory, by identity or by whole-field path. */
export function mountsOfUpper(entries: readonly MountEntry[], upper: string): MountEntry[] {
  const id = fileId(upper);
  return entries.filter((e) => e.fstype === 'overlay' && (sameLayer(e.superOptions.get('upperdir'), upper) || layerIs(e, 'upperdir', id)));
}

/** Why a second overlay must not be mounted on this upper now, or undefined: it is mounted elsewhere already. */
function upperMountedElsewhere(entries: readonly MountEntry[], layout: Layout): string | undefined {
  const other = mountsOfUpper(entries, layout.upper)[0];
  if (other === undefined) return undefined;
  return `overlay ${layout.name} is mounted on ${other.mountpoint}, not on ${layout.target}: a second overlay on its upper ${layout.upper} would corrupt it; unmount that one first`;
}

/** Before a mount: nothing else may use the upper (UB in overlayfs, and the host's writes split between two views). */
export function assertUpperFree(entries: readonly MountEntry[], layout: Layout): void {
  const why = upperMountedElsewhere(entries, layout);
  if (why) throw new StateOverlayError('mounted', why, { path: layout.upper });
}
