// The first step of a change made while mounted (`run --reload`, `reset --reload`): unmount, never lazily,
// and only when nothing holds the mount. A busy mount is left as it was, and the caller decides: run
// defers its reconcile, reset refuses.
import { StateOverlayError } from '../errors.js';
import type { Log } from '../log/logger.js';
import type { Overlay } from '../overlay/overlay.js';

/** Unmounts the overlay (keeping an ephemeral upper's tmpfs); returns the busy error instead when it is busy. */
export async function unmountUnlessBusy(ov: Overlay, log: Log): Promise<StateOverlayError | null> {
  const { unmountOverlay } = await import('../mount/unmount.js');
  try {
    await unmountOverlay(ov, log, { keepEphemeral: true });
    return null;
  } catch (err) {
    if (err instanceof StateOverlayError && err.code === 'busy') return err;
    throw err;
  }
}
