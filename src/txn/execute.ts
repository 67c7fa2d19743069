// Runs a journaled plan from where the last run stopped. Actions are applied idempotently in batches that
// never span two phases of the plan (moves, renames, sidecars, attrs, rmdirs); at the end of a batch the
// filesystems it touched are synced (syncfs), then its last index is recorded durably. Re-running a batch is safe:
// within a phase no action recreates a name another one moved away, and an action finds itself done
// already even when later ones ran too. An action whose premise no longer holds (a StaleAction) is set
// aside, recorded in the progress file and reported as a warning: the rest of the plan still runs.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import type { LogEvent } from '../log/events.js';
import type { Log } from '../log/logger.js';
import { TREE_ROOT, displayPath, type RelPath } from '../model/entry.js';
import { syncfs } from '../native/syscalls.js';
import type { Layout } from '../paths/layout.js';
import { setTree } from '../backups/sets.js';
import { StaleAction, TreeHandles, goneFrom, makeParents, moveBetween, presentIn, removeEmptyDir, renameWithin, setAttrs, show, type ApplyContext } from './apply.js';
import { faultAfterAction, faultAt, syncCounter, type Fault } from './fault.js';
import { progressFile, type Journal } from './journal.js';
import { ProgressWriter, readProgress } from './progress.js';
import { applyMerge } from './merge.js';
import { writeSidecar } from './sidecar.js';
import { ROLLBACK_RULE } from '../model/rule.js';
import type { Action } from '../plan/types.js';

export interface ExecuteTarget {
  readonly layout: Layout;
  /** The base as readable now (the source of sidecars). */
  readonly base: string;
}

export interface ExecuteOptions {
  /** Test-only: where to stop (see fault.ts). */
  readonly fault?: Fault | undefined;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Executed {
  /** Actions already done by an earlier run of the journal. */
  readonly alreadyDone: number;
  /** Actions set aside, by index, with why (this run's and those recorded by earlier runs). */
  readonly skipped: ReadonlyMap<number, string>;
}

/** Most actions between two durable progress records. */
export const BATCH = 256;

/** Moves an entry between trees (token: the transaction's set); gone from both (deleted since the plan was made) is a StaleAction. */
async function move(from: string, to: string, rel: RelPath, c: ApplyContext, token: string): Promise<void> {
  try {
    await moveBetween(from, to, rel, c, token);
  } catch (err) {
    // Checked only on failure: an entry merely out of reach (a symlink swapped in on the way) stays an error.
    if (err instanceof StateOverlayError && goneFrom(c.dirs, from, rel) && goneFrom(c.dirs, to, rel)) {
      throw new StaleAction(`${show(from, rel)} is gone and not in ${show(to, rel)} either: nothing to move`, show(from, rel));
    }
    throw err;
  }
}

/** Names a later action writes anew (a saved name, a sidecar, a rollback's restore) after the move of an older entry there. */
function rewrittenNames(actions: readonly Action[]): ReadonlySet<RelPath> {
  const names = new Set<RelPath>();
  for (const a of actions) {
    if (a.kind === 'rename') names.add(a.to);
    else if (a.kind === 'write-sidecar' || a.kind === 'restore-from-backups') names.add(a.path);
  }
  return names;
}

/** The set a journal's restores come from: a rollback's own (plan/rollback.ts), else the journal's. */
const sourceSet = (journal: Journal): string => journal.plan.rollbackSet ?? journal.set;

async function apply(t: ExecuteTarget, journal: Journal, a: Action, c: ApplyContext, rewritten: ReadonlySet<RelPath>): Promise<void> {
  const set = journal.set;
  const upper = t.layout.upper;
  switch (a.kind) {
    case 'move-to-backups': {
      const tree = setTree(t.layout, set);
      // In both trees, at a name a later action writes anew: a replay after that action ran. The move is
      // done; the entry in the upper is the new one (the host's file moved aside), never to be removed.
      if (rewritten.has(a.path) && presentIn(c.dirs, tree, a.path) && presentIn(c.dirs, upper, a.path)) return;
      return move(upper, tree, a.path, c, set);
    }
    case 'rename': return renameWithin(upper, a.path, a.to, c);
    case 'write-sidecar': return writeSidecar(t.base, upper, a, c, set);
    case 'merge': return applyMerge(t.layout, setTree(t.layout, set), a, c, set);
    case 'set-attrs': return setAttrs(upper, a, c);
    case 'remove-empty-dir': return removeEmptyDir(upper, a.path, c);
    case 'restore-from-backups':
      makeParents(upper, t.base, a.path, set);
      return move(setTree(t.layout, sourceSet(journal)), upper, a.path, c, set);
    case 'keep': return;
  }
}

/**
 * Directory handles of the batch under way, and the trees it touched. At its end one syncfs(2) per
 * filesystem of those trees (the upper, the backup set) makes every rename, creation and attribute change
 * of the batch durable at once, before the checkpoint is recorded (docs/concepts.md, "Durability").
 */
class Batch implements ApplyContext {
  readonly dirs = new TreeHandles();
  private readonly roots = new Set<string>();
  constructor(private readonly synced: () => void) {}
  readonly touch = (root: string): void => void this.roots.add(root);
  flush(): void {
    const devices = new Set<number>();
    for (const root of this.roots) {
      const fd = this.dirs.open(root, TREE_ROOT);
      if (fd === undefined) continue;
      const { dev } = fs.fstatSync(fd);
      if (devices.has(dev)) continue;
      devices.add(dev);
      syncfs(fd, root);
      this.synced();
    }
    this.roots.clear();
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

function eventOf(a: Action, backup: string, source: string): LogEvent {
  const path = displayPath(a.path);
  // Only a reset's moves have no rule; every other step is a rule's.
  if (a.rule === null) return a.kind === 'restore-from-backups' ? { event: 'restore.entry', path, rule: null, reason: a.reason, backup } : { event: 'reset.entry', path, rule: null, reason: a.reason, backup };
  const base = { path, rule: a.rule, reason: a.reason };
  switch (a.kind) {
    case 'move-to-backups': return { event: 'reconcile.drop', ...base, backup };
    case 'rename': return { event: 'reconcile.rename', ...base, to: displayPath(a.to) };
    case 'write-sidecar': return { event: 'reconcile.sidecar', path: displayPath(a.from), rule: a.rule, sidecar: path };
    case 'merge': return { event: 'reconcile.merge', ...base, driver: a.driver, backup };
    case 'set-attrs': return { event: 'reconcile.attrs', ...base, mode: a.mode.toString(8), uid: a.uid, gid: a.gid };
    case 'remove-empty-dir': return { event: 'reconcile.rmdir', ...base };
    case 'restore-from-backups': return a.rule === ROLLBACK_RULE ? { event: 'rollback.restore', ...base, backup: source } : { event: 'restore.entry', ...base, backup: source };
    case 'keep': return a.sidecar === undefined ? { event: 'reconcile.keep', ...base } : { event: 'reconcile.keep', ...base, sidecar: displayPath(a.sidecar) };
  }
}

/** The path a skipped action is reported under: the entry it concerns (a sidecar's, the entry it is written beside). */
export const concerns = (a: Action): RelPath => (a.kind === 'write-sidecar' ? a.from : a.path);

/** Applies the journal's actions not yet recorded as done. */
export async function executeJournal(t: ExecuteTarget, journal: Journal, log: Log, opts: ExecuteOptions = {}): Promise<Executed> {
  const actions = journal.plan.actions;
  const { done: start, skipped: before } = readProgress(t.layout, actions.length);
  const skipped = new Map(before);
  const progress = new ProgressWriter(progressFile(t.layout));
  const backup = setTree(t.layout, journal.set);
  const source = setTree(t.layout, sourceSet(journal));
  const batch = new Batch(syncCounter(opts.fault));
  const rewritten = rewrittenNames(actions);
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
      if (a.kind !== 'keep' && batch.dirs.empty) assertNoSwap(t, a.kind === 'restore-from-backups' ? source : backup);
      try {
        await apply(t, journal, a, batch, rewritten);
        const ev = eventOf(a, backup, source);
        if (a.kind === 'keep' && a.sidecar === undefined) log.debug(ev);
        else log.info(ev);
      } catch (err) {
        if (!(err instanceof StaleAction)) throw err;
        skipped.set(i, err.message);
        progress.skip(i, err.message);
        log.warn({ event: 'reconcile.skip', path: displayPath(concerns(a)), rule: a.rule, kind: a.kind, reason: err.message });
      }
      faultAfterAction(i + 1, actions.length, opts.fault);
      const next = actions[i + 1];
      // The last sidecar written, the batch's renames not yet synced: a power cut there may lose any of them.
      if (a.kind === 'write-sidecar' && next?.kind !== 'write-sidecar') faultAt('sidecars', opts.fault);
      if (next === undefined || next.kind !== a.kind || i + 1 - recorded >= BATCH) checkpoint(i + 1);
    }
  } finally {
    batch.dirs.close();
    progress.close();
  }
  return { alreadyDone: start, skipped };
}
