// A reconcile, vacuum or restore as a transaction: the journal made durable first (from then on a cut is
// finished, never undone), then the backup set it moves entries to (its index.json), the actions, state.json
// (a restore: its set's index), and last the journal removed. A set exists only once its journal does: a cut
// before the journal leaves nothing, one after it is completed by resumeTransaction.
import fs from 'node:fs';
import { indexEntries, readIndex, writeIndex, writtenEntries } from '../backups/index-file.js';
import { noteRestored, readRestored } from '../backups/restored.js';
import { isEmptied, removeSet, setDir, setIndexFile, setTree } from '../backups/sets.js';
import type { Layout } from '../paths/layout.js';
import { summarize, type ReconcileSummary } from '../plan/summary.js';
import type { MergeFile, MoveToBackups, Plan } from '../plan/types.js';
import { ensureStateSubdir } from '../state/state-dir.js';
import { concerns, executeJournal, type ExecuteOptions } from './execute.js';
import { faultAt, faultFromEnv } from './fault.js';
import type { Journal } from './journal.js';
import { readProgress } from './progress.js';
import type { OverlaySession } from './session.js';

/**
 * Makes the journal's backup set (its index) unless it exists: a reconcile or vacuum that moves entries, or
 * a reconcile that writes sidecars or saved names (the index records them for a rollback to undo).
 */
function makeSet(layout: Layout, journal: Journal): void {
  if (journal.origin === 'restore') return;
  const moves = journal.plan.actions.filter((a): a is MoveToBackups | MergeFile => a.kind === 'move-to-backups' || a.kind === 'merge');
  const wrote = journal.origin === 'reconcile' ? writtenEntries(journal.plan.actions) : [];
  if (moves.length === 0 && wrote.length === 0) return;
  const file = setIndexFile(layout, journal.set);
  // Written before a cut: the journal it belongs to is the one being finished.
  if (fs.existsSync(file)) return;
  ensureStateSubdir(layout, setTree(layout, journal.set));
  writeIndex(file, {
    version: 1,
    overlay: journal.overlay,
    set: journal.set,
    origin: journal.origin,
    mode: journal.mode,
    from: journal.from,
    to: journal.to,
    createdAt: journal.startedAt,
    entries: indexEntries(moves),
    ...(journal.origin === 'reconcile' ? { wrote } : {}),
  });
}

/** Makes the journal durable, then its backup set, before anything in the upper changes. */
export function beginTransaction(s: OverlaySession, journal: Journal): void {
  const fault = faultFromEnv();
  s.beginJournal(journal);
  faultAt('journal', fault);
  try {
    makeSet(s.layout, journal);
  } catch (err) {
    // Nothing has moved yet (a full disk, say): the journal and the start of its set go, so that nothing
    // claims entries it never got and mount is not refused for a transaction that never began.
    if (journal.origin !== 'restore') fs.rmSync(setDir(s.layout, journal.set), { recursive: true, force: true });
    s.endJournal();
    throw err;
  }
  faultAt('index', fault);
}

/** The plan as carried out: skipped actions left out and reported with the conflicts. */
function carriedOut(plan: Plan, skipped: ReadonlyMap<number, string>): Plan {
  if (skipped.size === 0) return plan;
  const notDone = [...skipped].sort(([a], [b]) => a - b).map(([i, reason]) => {
    const a = plan.actions[i]!;
    return { path: concerns(a), rule: a.rule, reason: `not done: ${reason}` };
  });
  return { actions: plan.actions.filter((_, i) => !skipped.has(i)), conflicts: [...plan.conflicts, ...notDone] };
}

/**
 * Runs the rest of the journal, records the result in state.json and removes the journal. Returns the
 * summary and the plan as carried out (actions skipped because their premise no longer held are conflicts).
 */
export async function finishTransaction(s: OverlaySession, journal: Journal, opts: ExecuteOptions = {}): Promise<{ summary: ReconcileSummary; plan: Plan; alreadyDone: number }> {
  const started = Date.now();
  const fault = opts.fault ?? faultFromEnv();
  makeSet(s.layout, journal);
  const { alreadyDone, skipped } = await executeJournal({ layout: s.layout, base: s.overlay.base }, journal, s.log, { ...opts, fault });
  faultAt('actions', fault);
  const plan = carriedOut(journal.plan, skipped);
  const summary = summarize(plan, { from: journal.from, to: journal.to, mode: journal.mode ?? 'changed', backupSet: journal.set, ms: Date.now() - started });
  if (journal.origin === 'reconcile') {
    s.updateState((state) => ({ ...state, generation: journal.to, manifest: journal.manifest, lastReconcile: summary }));
  }
  if (journal.origin === 'restore') forgetRestored(s, journal.set, journal);
  if (journal.plan.rollbackSet !== undefined) forgetRestored(s, journal.plan.rollbackSet, journal);
  faultAt('state', fault);
  s.endJournal(() => faultAt('journal-removed', fault));
  return { summary, plan, alreadyDone };
}

/**
 * A restore's last step, and a rollback's: the set's index no longer lists what came back, nor (a rollback)
 * what its reconcile wrote, undone now. A set a restore left holding nothing is recorded as restored (a
 * repeated restore says so) and removed. Idempotent: a replay finds them gone already, or the set removed
 * and recorded.
 */
function forgetRestored(s: OverlaySession, set: string, journal: Journal): void {
  const { layout } = s;
  const file = setIndexFile(layout, set);
  if (journal.origin === 'restore' && !fs.existsSync(setDir(layout, set)) && readRestored(layout).some((r) => r.name === set)) return;
  // A rollback's set removed by hand since: nothing of it left to forget.
  if (journal.origin !== 'restore' && !fs.existsSync(file)) return;
  const index = readIndex(file);
  const back = new Set(journal.plan.actions.filter((a) => a.kind === 'restore-from-backups').map((a) => a.path));
  const entries = index.entries.filter((e) => !back.has(e.path));
  writeIndex(file, journal.origin === 'restore' ? { ...index, entries } : { ...index, entries, wrote: [] });
  if (journal.origin !== 'restore' || !isEmptied(layout, set)) return;
  noteRestored(layout, { name: set, restoredAt: new Date().toISOString(), entries: back.size });
  removeSet(layout, set);
  s.log.info({ event: 'backups.pruned', name: journal.overlay, set });
}

/** Completes the interrupted transaction of a session (its journal read when the session opened). */
export async function resumeTransaction(s: OverlaySession, journal: Journal): Promise<void> {
  const { layout, overlay } = s;
  const total = journal.plan.actions.length;
  s.log.info({ event: 'reconcile.resume', name: overlay.name, journal: layout.journal, done: readProgress(layout, total).done, total });
  await finishTransaction(s, journal);
}
