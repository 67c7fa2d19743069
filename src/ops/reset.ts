// `reset NAME [PATH…]`: moves the whole upper, or the subtrees given, into a backup set so that the base
// shows again; `restore` undoes it. Offline and journaled like vacuum; mounted, only with --reload: the
// selection is checked first, then the overlay unmounted when nothing holds it, reset and mounted again.
import { StateOverlayError } from '../errors.js';
import type { Log } from '../log/logger.js';
import { isUnder, type RelPath } from '../model/entry.js';
import { foreignError, mountOverlay, mountStatus } from '../mount/overlay.js';
import { readMountinfo } from '../mount/mountinfo.js';
import { liveBaseDir } from '../observe/live-base.js';
import { withUpper, liveTypeOf } from '../observe/upper.js';
import type { Overlay } from '../overlay/overlay.js';
import { isGlob, planReset, selects, type Selector } from '../plan/reset.js';
import type { Plan } from '../plan/types.js';
import { pruneSets, setName } from '../backups/sets.js';
import { JOURNAL_VERSION, type Journal } from '../txn/journal.js';
import { goOffline } from '../txn/offline.js';
import { withSession, type OverlaySession } from '../txn/session.js';
import { beginTransaction, finishTransaction, resumeTransaction } from '../txn/transaction.js';
import { withHandles } from '../tree/handles.js';
import { unmountUnlessBusy } from './reload.js';
import { restorePath } from './restore.js';

export interface ResetOptions {
  /** List what would move; change nothing (the overlay may stay mounted). */
  readonly dryRun?: boolean;
  /** Mounted: unmount when not busy, reset, mount again. */
  readonly reload?: boolean;
  readonly lockWaitMs?: number;
}

export interface ResetReport {
  /** The moves, as carried out (or that a dry run would make). */
  readonly plan: Plan;
  /** The backup set the entries went to; null for a dry run or when nothing moved. */
  readonly set: string | null;
  readonly dryRun: boolean;
  /** An interrupted transaction was finished first. */
  readonly resumed: boolean;
  /** Unmounted for the reset and mounted again (--reload). */
  readonly remounted: boolean;
  /** Backup sets Backups.Keep= removed after the reset. */
  readonly pruned: readonly string[];
}

/** A PATH argument as a selector: a glob (relative to the mountpoint, or absolute under it), or one path. */
export function selectorOf(mountpoint: string, arg: string): Selector {
  if (!isGlob(arg)) return { arg, path: restorePath(mountpoint, arg) };
  const mp = mountpoint.replace(/\/+$/, '');
  if (arg.startsWith('/') && !arg.startsWith(mp + '/')) throw new StateOverlayError('usage', `${arg}: not under ${mountpoint}`);
  return { arg, glob: arg.startsWith('/') ? arg.slice(mp.length + 1) : arg };
}

/**
 * The plan for the selectors against the upper as it is now (classified over baseDir). An argument that
 * selects nothing is a usage error naming it, unless the reset just finished had moved what it selects.
 */
function resetPlan(s: OverlaySession, baseDir: string, selectors: readonly Selector[], resumed: readonly RelPath[]): Plan {
  const { layout, config } = s.overlay;
  const upper = withHandles(baseDir, (base) => withUpper(layout.upper, {}, (u) => u.classify(liveTypeOf(base))));
  const { plan, unmatched } = planReset(upper, selectors);
  const missing = unmatched.filter((arg) => !movedBy(selectors.find((x) => x.arg === arg)!, resumed));
  if (missing.length > 0) {
    const shown = missing.map((a) => JSON.stringify(a)).join(', ');
    throw new StateOverlayError('usage', `reset ${s.overlay.name}: ${shown} ${missing.length === 1 ? 'matches' : 'match'} nothing in the upper ${layout.upper} (paths under ${config.path}, or relative to it); nothing was moved`, { path: layout.upper });
  }
  return plan;
}

/** Whether the reset just finished moved what a selector chooses (the entry, or one it lies below). */
function movedBy(s: Selector, moved: readonly RelPath[]): boolean {
  const m = selects(s);
  return moved.some((p) => m(p) || ('path' in s && isUnder(s.path, p)));
}

async function resetOffline(s: OverlaySession, selectors: readonly Selector[], dryRun: boolean): Promise<Omit<ResetReport, 'remounted'>> {
  const { overlay: ov, log, layout } = s;
  const interrupted = s.journal;
  const resumed = await goOffline(s, { dryRun }, resumeTransaction);
  const moved = interrupted?.origin === 'reset' ? interrupted.plan.actions.map((a) => a.path) : [];
  const plan = resetPlan(s, ov.base, selectors, moved);
  if (dryRun || plan.actions.length === 0) return { plan, set: null, dryRun, resumed, pruned: [] };
  const to = s.state?.generation ?? 'unrecorded';
  const journal: Journal = {
    version: JOURNAL_VERSION,
    overlay: ov.name,
    origin: 'reset',
    mode: null,
    from: s.state?.generation ?? null,
    to,
    manifest: null,
    set: setName(new Date(), to),
    startedAt: new Date().toISOString(),
    plan,
  };
  beginTransaction(s, journal);
  const done = await finishTransaction(s, journal);
  const pruned = pruneSets(layout, ov.config.backups.keep, new Set([journal.set]));
  for (const set of pruned) log.info({ event: 'backups.pruned', name: ov.name, set });
  log.info({ event: 'reset.done', name: ov.name, moved: done.plan.actions.length, set: journal.set });
  return { plan: done.plan, set: journal.set, dryRun, resumed, pruned };
}

async function resetIn(s: OverlaySession, args: readonly string[], opts: ResetOptions): Promise<ResetReport> {
  const { overlay: ov, log, layout } = s;
  const selectors = args.map((a) => selectorOf(ov.config.path, a));
  const mounts = readMountinfo();
  const status = mountStatus(ov, mounts);
  if (status.state === 'foreign') throw foreignError(ov, status.entry);
  if (status.state === 'unmounted') return { ...(await resetOffline(s, selectors, Boolean(opts.dryRun))), remounted: false };
  // Mounted: a dry run reads the upper as it is, through the base bind.
  const plan = resetPlan(s, liveBaseDir(ov, mounts), selectors, []);
  if (opts.dryRun) return { plan, set: null, dryRun: true, resumed: false, remounted: false, pruned: [] };
  if (!opts.reload) {
    throw new StateOverlayError('mounted', `overlay ${ov.name} is mounted on ${layout.target}: reset runs offline; use --reload to unmount it, reset and mount it again (only when nothing holds it)`, { path: layout.target });
  }
  // The selection was checked above: a bad PATH never unmounts anything.
  const busy = await unmountUnlessBusy(ov, log);
  if (busy) throw new StateOverlayError('busy', `${busy.message}; nothing was reset`, { path: layout.target, cause: busy });
  try {
    return { ...(await resetOffline(s, selectors, false)), remounted: true };
  } finally {
    // Mounted again, unless a transaction was cut short: its journal keeps mount away until it is finished.
    if (!s.hasJournal) await mountOverlay(ov, log);
  }
}

/** Resets the overlay's upper (all of it, or the given PATHs: absolute under the mountpoint, relative, or globs). */
export async function resetOverlay(ov: Overlay, log: Log, args: readonly string[], opts: ResetOptions = {}): Promise<ResetReport> {
  const session = { offline: true, readOnly: Boolean(opts.dryRun), ...(opts.lockWaitMs === undefined ? {} : { lockWaitMs: opts.lockWaitMs }) };
  return withSession(ov, log, session, (s) => resetIn(s, args, opts));
}
