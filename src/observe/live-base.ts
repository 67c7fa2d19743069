// Where the base of an overlay can be read right now: through the private base bind while the overlay
// hides it (mounted over its own lower), else the base directory itself.
import type { Overlay } from '../overlay/overlay.js';
import { StateOverlayError } from '../errors.js';
import { mountsAt, readMountinfo, type MountEntry } from '../mount/mountinfo.js';
import { mountStatus } from '../mount/overlay.js';

export function liveBaseDir(ov: Overlay, entries: readonly MountEntry[] = readMountinfo()): string {
  if (mountStatus(ov, entries).state === 'unmounted') return ov.base;
  if (mountsAt(entries, ov.layout.baseBind).length > 0) return ov.layout.baseBind;
  if (ov.config.base !== null) return ov.base;
  throw new StateOverlayError('mounted', `${ov.name} is mounted over its base and the base bind ${ov.layout.baseBind} is missing: the base cannot be read`, {
    path: ov.layout.baseBind,
  });
}
