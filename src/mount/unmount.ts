// Unmounts one overlay and its base bind; a busy mount fails with the processes holding it, unless lazy.
import fs from 'node:fs';
import type { Overlay } from '../overlay/overlay.js';
import { StateOverlayError } from '../errors.js';
import { capStderr, tryRun } from '../exec.js';
import type { Log } from '../log/logger.js';
import { unmountAllAt } from './bind.js';
import { describeHolders, findHolders } from './holders.js';
import { mountsUnder, readMountinfo } from './mountinfo.js';
import { foreignError, mountStatus } from './overlay.js';

export interface UnmountOptions {
  /** Detach now, let the kernel finish when the last user leaves (umount -l). */
  readonly lazy?: boolean;
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
  return new StateOverlayError('busy', `${target} is busy: ${why} (stop them, or use --lazy)`, { path: target });
}

/** Unmounts NAME's overlay then its base bind; returns false when the overlay was not mounted. */
export async function unmountOverlay(ov: Overlay, log: Log, opts: UnmountOptions = {}): Promise<boolean> {
  const lazy = opts.lazy === true;
  const status = mountStatus(ov);
  if (status.state === 'foreign') throw foreignError(ov, status.entry);
  let done = false;
  if (status.state === 'mounted') {
    const target = status.entry.mountpoint;
    const r = await tryRun('umount', lazy ? ['-l', target] : [target]);
    if (r.exitCode !== 0) {
      if (/busy/i.test(r.stderr)) throw busyError(target, capStderr(r.stderr));
      throw new StateOverlayError('exec', `cannot unmount ${target}: ${capStderr(r.stderr) || `umount exit status ${r.exitCode}`}`, { path: target });
    }
    done = true;
  }
  // The bind is private and only ours: if something still reads through it (a manifest build being
  // stopped), detaching it lazily is safe, nothing propagates from it.
  if (fs.existsSync(ov.layout.baseBind)) {
    try {
      await unmountAllAt(ov.layout.baseBind, lazy);
    } catch {
      // Any failure (busy): detach it lazily; if that fails too, its error is the one reported.
      await unmountAllAt(ov.layout.baseBind, true);
    }
  }
  if (done) log.info({ event: 'unmount.done', name: ov.name, target: ov.layout.target, lazy });
  return done;
}
