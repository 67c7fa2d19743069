// `mount`: mount the overlay as it is, without reconciling (idempotent), in a session: the lock keeps a
// mount from racing a reconcile of the same upper.
import { StateOverlayError } from '../errors.js';
import type { Log } from '../log/logger.js';
import { mountOverlay } from '../mount/overlay.js';
import type { Overlay } from '../overlay/overlay.js';
import { withSession } from '../txn/session.js';

/** Mounts NAME; false when it was mounted already. An interrupted reconcile must be finished first. */
export async function mountNamed(ov: Overlay, log: Log): Promise<boolean> {
  return withSession(ov, log, { lockWaitMs: 5000 }, async (s) => {
    if (s.hasJournal) {
      throw new StateOverlayError('busy', `${ov.layout.journal}: a reconcile of ${ov.name} was interrupted; finish it with 'state-overlay run ${ov.name}' before mounting`, {
        path: ov.layout.journal,
      });
    }
    return mountOverlay(ov, log);
  });
}
