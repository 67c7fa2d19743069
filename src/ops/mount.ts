// `mount`: mount the overlay as it is, without reconciling (idempotent), in a session: the lock keeps a
// mount from racing a reconcile of the same upper.
import fs from 'node:fs';
import { StateOverlayError } from '../errors.js';
import type { Log } from '../log/logger.js';
import { mountOverlay } from '../mount/overlay.js';
import type { Overlay } from '../overlay/overlay.js';
import { currentGeneration } from '../observe/generation.js';
import { liveBaseDir } from '../observe/live-base.js';
import { withSession, type OverlaySession } from '../txn/session.js';
import { isRecorded, recordManifest } from './record.js';

/** Mounts NAME; false when it was mounted already. An interrupted reconcile must be finished first. */
export async function mountNamed(ov: Overlay, log: Log): Promise<boolean> {
  return withSession(ov, log, { lockWaitMs: 5000 }, async (s) => {
    if (s.hasJournal) {
      throw new StateOverlayError('busy', `${ov.layout.journal}: a reconcile of ${ov.name} was interrupted; finish it with 'state-overlay run ${ov.name}' before mounting`, {
        path: ov.layout.journal,
      });
    }
    const mounted = await mountOverlay(ov, log);
    await recordMissingManifest(s);
    return mounted;
  });
}

/**
 * A recorded generation without its manifest (an offline reconcile that could not keep one): kept now,
 * through the base bind, as run does after its mount, if the base is still that generation. Otherwise
 * the base changed since, and the next start or reload reconciles.
 */
async function recordMissingManifest(s: OverlaySession): Promise<void> {
  const { overlay: ov, layout } = s;
  const recorded = s.state?.generation;
  if (recorded === undefined || recorded === null || ov.config.reconcile === 'none') return;
  // Kept already (every mount after the first): no generation to compute, no walk of the base.
  const kept = s.manifestFile;
  if (kept !== null && fs.existsSync(kept)) return;
  const gen = await currentGeneration(ov, { baseDir: liveBaseDir(ov) });
  if (gen.generation !== recorded || isRecorded(s, gen)) return;
  await recordManifest(s, gen, { baseDir: layout.baseBind });
}
