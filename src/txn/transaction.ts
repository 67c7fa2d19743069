// A reconcile (or vacuum) as a transaction: backup index and journal written durably first, then the
// actions, then state.json, then the journal removed. finishTransaction also completes an interrupted one.
import fs from 'node:fs';
import { indexEntries, writeIndex } from '../backups/index-file.js';
import { setDir, setIndexFile, setTree } from '../backups/sets.js';
import type { Log } from '../log/logger.js';
import type { ReconcileSummary } from '../plan/summary.js';
import { emptyState, readState, writeState } from '../state/state-file.js';
import { ensureStateSubdir } from '../state/state-dir.js';
import { executeJournal, type ExecuteOptions, type ExecuteTarget } from './execute.js';
import { removeJournal, writeJournal, type Journal } from './journal.js';
import { summarize } from '../plan/summary.js';
import type { MoveToBackups } from '../plan/types.js';

/** Makes the journal durable (with the backup set's index) before anything in the upper changes. */
export function beginTransaction(t: ExecuteTarget, journal: Journal): void {
  const moves = journal.plan.actions.filter((a): a is MoveToBackups => a.kind === 'move-to-backups');
  if (moves.length === 0) return writeJournal(t.layout, journal);
  try {
    ensureStateSubdir(t.layout, setTree(t.layout, journal.set));
    writeIndex(setIndexFile(t.layout, journal.set), {
      version: 1,
      overlay: journal.overlay,
      set: journal.set,
      origin: journal.origin,
      mode: journal.mode,
      from: journal.from,
      to: journal.to,
      createdAt: journal.startedAt,
      entries: indexEntries(moves),
    });
    writeJournal(t.layout, journal);
  } catch (err) {
    // Nothing has moved yet: a set without its journal (a full disk, say) would only claim entries it never got.
    if (!fs.existsSync(t.layout.journal)) fs.rmSync(setDir(t.layout, journal.set), { recursive: true, force: true });
    throw err;
  }
}

/** Runs the rest of the journal, records the result in state.json and removes the journal. */
export async function finishTransaction(t: ExecuteTarget, journal: Journal, log: Log, opts: ExecuteOptions = {}): Promise<{ summary: ReconcileSummary; alreadyDone: number }> {
  const started = Date.now();
  const alreadyDone = await executeJournal(t, journal, log, opts);
  const summary = summarize(journal.plan, { from: journal.from, to: journal.to, mode: journal.mode ?? 'changed', backupSet: journal.set, ms: Date.now() - started });
  const state = readState(t.layout) ?? emptyState();
  if (journal.origin === 'reconcile') {
    writeState(t.layout, { ...state, generation: journal.to, manifest: journal.manifest, lastReconcile: summary });
  }
  removeJournal(t.layout);
  return { summary, alreadyDone };
}
