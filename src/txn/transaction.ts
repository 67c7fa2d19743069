// A reconcile, vacuum or restore as a transaction: backup index and journal written durably first, then
// the actions, then state.json (a restore: its set's index), then the journal removed. resumeTransaction completes an interrupted one.
import fs from 'node:fs';
import { indexEntries, readIndex, writeIndex } from '../backups/index-file.js';
import { setDir, setIndexFile, setTree } from '../backups/sets.js';
import { summarize, type ReconcileSummary } from '../plan/summary.js';
import type { MoveToBackups } from '../plan/types.js';
import { ensureStateSubdir } from '../state/state-dir.js';
import { executeJournal, type ExecuteOptions } from './execute.js';
import { faultAt, faultFromEnv } from './fault.js';
import { readProgress, type Journal } from './journal.js';
import type { OverlaySession } from './session.js';

/** Makes the journal durable (with the backup set's index) before anything in the upper changes. */
export function beginTransaction(s: OverlaySession, journal: Journal): void {
  const { layout } = s;
  const moves = journal.plan.actions.filter((a): a is MoveToBackups => a.kind === 'move-to-backups');
  if (moves.length === 0 || journal.origin === 'restore') return s.beginJournal(journal);
  const origin = journal.origin;
  try {
    ensureStateSubdir(layout, setTree(layout, journal.set));
    writeIndex(setIndexFile(layout, journal.set), {
      version: 1,
      overlay: journal.overlay,
      set: journal.set,
      origin,
      mode: journal.mode,
      from: journal.from,
      to: journal.to,
      createdAt: journal.startedAt,
      entries: indexEntries(moves),
    });
    s.beginJournal(journal);
  } catch (err) {
    // Nothing has moved yet: a set without its journal (a full disk, say) would only claim entries it never got.
    if (!fs.existsSync(layout.journal)) fs.rmSync(setDir(layout, journal.set), { recursive: true, force: true });
    throw err;
  }
}

/** Runs the rest of the journal, records the result in state.json and removes the journal. */
export async function finishTransaction(s: OverlaySession, journal: Journal, opts: ExecuteOptions = {}): Promise<{ summary: ReconcileSummary; alreadyDone: number }> {
  const started = Date.now();
  const fault = opts.fault ?? faultFromEnv();
  const alreadyDone = await executeJournal({ layout: s.layout, base: s.overlay.base }, journal, s.log, { ...opts, fault });
  faultAt('actions', fault);
  const summary = summarize(journal.plan, { from: journal.from, to: journal.to, mode: journal.mode ?? 'changed', backupSet: journal.set, ms: Date.now() - started });
  if (journal.origin === 'reconcile') {
    s.updateState((state) => ({ ...state, generation: journal.to, manifest: journal.manifest, lastReconcile: summary }));
  }
  if (journal.origin === 'restore') forgetRestored(s, journal);
  faultAt('state', fault);
  s.endJournal(() => faultAt('journal-removed', fault));
  return { summary, alreadyDone };
}

/** A restore's last step: the set's index no longer lists what came back (idempotent: a replay finds them gone already). */
function forgetRestored(s: OverlaySession, journal: Journal): void {
  const file = setIndexFile(s.layout, journal.set);
  const index = readIndex(file);
  const back = new Set(journal.plan.actions.filter((a) => a.kind === 'restore-from-backups').map((a) => a.path));
  writeIndex(file, { ...index, entries: index.entries.filter((e) => !back.has(e.path)) });
}

/** Completes the interrupted transaction of a session (its journal read when the session opened). */
export async function resumeTransaction(s: OverlaySession, journal: Journal): Promise<void> {
  const { layout, overlay } = s;
  s.log.info({ event: 'reconcile.resume', name: overlay.name, journal: layout.journal, done: readProgress(layout), total: journal.plan.actions.length });
  await finishTransaction(s, journal);
}
