// `unmount`: the overlay, then its base bind (idempotent); a busy mount fails naming its holders. It is
// the unit's ExecStop: a configuration that cannot be read must not keep the overlay mounted.
import { StateOverlayError, errorChain } from '../errors.js';
import type { Log } from '../log/logger.js';
import { unmountOverlay, unmountRecorded, type UnmountOptions } from '../mount/unmount.js';
import { resolveOverlay } from '../overlay/overlay.js';

/**
 * Unmounts NAME under root. With a broken configuration (exit 6 for every other command) it logs that
 * and unmounts what NAME's state dirs show mounted instead.
 */
export async function unmountNamed(root: string, name: string, log: Log, opts: UnmountOptions = {}): Promise<{ target: string; changed: boolean }> {
  let ov;
  try {
    ov = resolveOverlay(root, name, log);
  } catch (err) {
    if (!(err instanceof StateOverlayError) || err.code !== 'config') throw err;
    log.warn({ event: 'warning', message: `configuration of ${name} is broken, unmounting what its state dirs show mounted: ${errorChain(err).join(': ')}`, ...(err.path ? { path: err.path } : {}) });
    return unmountRecorded(root, name, log, opts);
  }
  return { target: ov.layout.target, changed: await unmountOverlay(ov, log, opts) };
}
