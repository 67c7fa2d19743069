// The frame of every offline change to an upper (reconcile, vacuum, restore): the overlay's lock, a check
// that nothing mounts the upper, and an interrupted transaction finished before anything else.
import fs from 'node:fs';
import type { Overlay } from '../overlay/overlay.js';
import { StateOverlayError, ioError } from '../errors.js';
import type { Log } from '../log/logger.js';
import { checkBaseApart } from '../mount/preflight.js';
import { acquireLock } from '../state/lock.js';
import { ensureStateDir } from '../state/state-dir.js';
import { faultFromEnv } from './execute.js';
import { readJournal, readProgress } from './journal.js';
import { assertOffline } from './offline.js';
import { finishTransaction } from './transaction.js';

export interface SessionOptions {
  /** Read-only use: an interrupted transaction is reported, not finished. */
  readonly dryRun?: boolean;
  readonly lockWaitMs?: number;
}

/** Completes an interrupted reconcile or vacuum; true when there was one. Call with the lock held. */
export async function finishInterrupted(ov: Overlay, log: Log): Promise<boolean> {
  const j = readJournal(ov.layout);
  if (!j) return false;
  log.info({ event: 'reconcile.resume', name: ov.name, journal: ov.layout.journal, done: readProgress(ov.layout), total: j.plan.actions.length });
  await finishTransaction({ layout: ov.layout, base: ov.base }, j, log, { faultAfter: faultFromEnv() });
  return true;
}

/** Refuses a base that lies in the overlay's own data or holds it, and symlinks planted for the upper, manifests or backups. */
function assertSafePaths(ov: Overlay): void {
  const { layout } = ov;
  let base = ov.base;
  try {
    base = fs.realpathSync(base);
  } catch (err) {
    // a missing base is reported where it is read; one that cannot be resolved cannot be checked for overlap
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot resolve base', base, err);
  }
  checkBaseApart(base, { stateDir: layout.stateDir, upper: layout.upper, work: layout.work });
  for (const dir of [layout.upper, layout.manifestsDir, layout.backupsDir]) {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // not made yet: nothing to refuse
      throw ioError('lstat', dir, err);
    }
    if (st.isSymbolicLink()) throw new StateOverlayError('unsafe', `${dir} is a symlink: refusing to keep overlay state through it`, { path: dir });
  }
}

/** Runs fn with the lock held and the overlay offline; fn learns whether an interrupted run was finished first. */
export async function offlineSession<T>(ov: Overlay, log: Log, opts: SessionOptions, fn: (resumed: boolean) => Promise<T>): Promise<T> {
  assertSafePaths(ov);
  // A dry run changes nothing: with no state dir yet there is nothing to lock, and it must not create one.
  if (opts.dryRun && !fs.existsSync(ov.layout.stateDir)) {
    assertOffline(ov.layout, ov.config.base === null);
    return fn(false);
  }
  ensureStateDir(ov.layout);
  const lock = await acquireLock(ov.layout.lockFile, { what: `overlay ${ov.name}`, waitMs: opts.lockWaitMs ?? 5000 });
  try {
    assertOffline(ov.layout, ov.config.base === null);
    let resumed = false;
    if (readJournal(ov.layout)) {
      if (opts.dryRun) {
        throw new StateOverlayError('busy', `an interrupted reconcile must be finished first (${ov.layout.journal}): run 'state-overlay reconcile ${ov.name}'`, { path: ov.layout.journal });
      }
      resumed = await finishInterrupted(ov, log);
    }
    return await fn(resumed);
  } finally {
    await lock.release();
  }
}
