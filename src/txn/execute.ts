// Runs a journaled plan from where the last run stopped. Actions are applied idempotently in batches that
// never span two phases of the plan (moves, renames, sidecars, attrs, rmdirs); at the end of a batch the
// directories it touched are fsynced, then its last index is recorded durably. Re-running a batch is safe:
// within a phase no action recreates a name another one moved away. STATE_OVERLAY_FAULT_AFTER=k (test
// only) stops the run right after action k is applied and before anything after it is recorded, as a
// power cut there would.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import type { LogEvent } from '../log/events.js';
import type { Log } from '../log/logger.js';
import { displayPath, type RelPath } from '../model/entry.js';
import type { Layout } from '../paths/layout.js';
import { setTree } from '../backups/sets.js';
import { TreeHandles, makeParents, moveBetween, removeEmptyDir, renameWithin, setAttrs, writeSidecar, type ApplyContext } from './apply.js';
import { ProgressWriter, progressFile, readProgress, type Journal } from './journal.js';
import type { Action } from '../plan/types.js';

export const FAULT_ENV = 'STATE_OVERLAY_FAULT_AFTER';

/** The test-only fault point from the environment (a positive integer), or undefined. */
export function faultFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[FAULT_ENV];
  if (v === undefined || v === '') return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new StateOverlayError('usage', `${FAULT_ENV}=${v}: expected a positive integer (test only)`);
  return Number(v);
}

export interface ExecuteTarget {
  readonly layout: Layout;
  /** The base as readable now (the source of sidecars). */
  readonly base: string;
}

export interface ExecuteOptions {
  readonly faultAfter?: number | undefined;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Most actions between two durable progress records. */
export const BATCH = 256;

async function apply(t: ExecuteTarget, set: string, a: Action, c: ApplyContext): Promise<void> {
  const upper = t.layout.upper;
  switch (a.kind) {
    case 'move-to-backups': return moveBetween(upper, setTree(t.layout, set), a.path, c, set);
    case 'rename': return renameWithin(upper, a.path, a.to, c);
    case 'write-sidecar': return writeSidecar(t.base, upper, a, c, set);
    case 'set-attrs': return setAttrs(upper, a, c);
    case 'remove-empty-dir': return removeEmptyDir(upper, a.path, c);
    case 'restore-from-backups':
      makeParents(upper, t.base, a.path, set);
      return moveBetween(setTree(t.layout, set), upper, a.path, c, set);
    case 'keep': return;
  }
}

/** Directory handles of the batch under way, and the directories it touched, fsynced once each at its end. */
class Batch implements ApplyContext {
  readonly dirs = new TreeHandles();
  private readonly pending = new Map<string, [string, RelPath]>();
  readonly touch = (root: string, rel: RelPath): void => void this.pending.set(`${root}\0${rel}`, [root, rel]);
  flush(): void {
    for (const [root, rel] of this.pending.values()) this.dirs.sync(root, rel);
    this.pending.clear();
    this.dirs.close();
  }
}

/** Refuses a symlink or non-directory from `from` down to dir (a missing one is left to the action to report). */
function assertPlainDirs(from: string, dir: string): void {
  let cur = from;
  for (const part of path.relative(from, dir).split(path.sep).filter((p) => p !== '')) {
    cur = path.join(cur, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError('lstat', cur, err);
    }
    if (st.isSymbolicLink()) throw new StateOverlayError('unsafe', `${cur} is a symlink: refusing to act through it`, { path: cur });
    if (!st.isDirectory()) throw new StateOverlayError('unsafe', `${cur} is not a directory`, { path: cur });
  }
}

/** Before each action: no symlink swapped in on the way to the upper or the backup set (checked below the state dir). */
function assertNoSwap(t: ExecuteTarget, tree: string): void {
  const { stateDir, upper } = t.layout;
  assertPlainDirs(upper.startsWith(stateDir + path.sep) ? stateDir : path.dirname(upper), upper);
  assertPlainDirs(stateDir, tree);
}

function eventOf(a: Action, backup: string): LogEvent {
  const path = displayPath(a.path);
  const base = { path, rule: a.rule, reason: a.reason };
  switch (a.kind) {
    case 'move-to-backups': return { event: 'reconcile.drop', ...base, backup };
    case 'rename': return { event: 'reconcile.rename', ...base, to: displayPath(a.to) };
    case 'write-sidecar': return { event: 'reconcile.sidecar', path: displayPath(a.from), rule: a.rule, sidecar: path };
    case 'set-attrs': return { event: 'reconcile.attrs', ...base, mode: a.mode.toString(8), uid: a.uid, gid: a.gid };
    case 'remove-empty-dir': return { event: 'reconcile.rmdir', ...base };
    case 'restore-from-backups': return { event: 'restore.entry', ...base, backup };
    case 'keep': return a.sidecar === undefined ? { event: 'reconcile.keep', ...base } : { event: 'reconcile.keep', ...base, sidecar: displayPath(a.sidecar) };
  }
}

/** Applies the journal's actions not yet recorded as done; returns how many were already done. */
export async function executeJournal(t: ExecuteTarget, journal: Journal, log: Log, opts: ExecuteOptions = {}): Promise<number> {
  const actions = journal.plan.actions;
  const start = readProgress(t.layout);
  const progress = new ProgressWriter(progressFile(t.layout));
  const backup = setTree(t.layout, journal.set);
  const batch = new Batch();
  let recorded = start;
  const checkpoint = (done: number) => {
    batch.flush();
    progress.done(done);
    recorded = done;
    opts.onProgress?.(done, actions.length);
  };
  try {
    for (let i = start; i < actions.length; i++) {
      const a = actions[i]!;
      // Checked whenever the batch opens its handles afresh: the actions then reach both trees through them.
      if (a.kind !== 'keep' && batch.dirs.empty) assertNoSwap(t, backup);
      await apply(t, journal.set, a, batch);
      const ev = eventOf(a, backup);
      if (a.kind === 'keep' && a.sidecar === undefined) log.debug(ev);
      else log.info(ev);
      if (opts.faultAfter === i + 1) {
        throw new StateOverlayError('internal', `${FAULT_ENV}=${i + 1}: stopped after action ${i + 1} of ${actions.length} (test-only fault point)`);
      }
      const next = actions[i + 1];
      if (next === undefined || next.kind !== a.kind || i + 1 - recorded >= BATCH) checkpoint(i + 1);
    }
  } finally {
    batch.dirs.close();
    progress.close();
  }
  return start;
}
