// Rule 11, a rollback: the host boots a generation it was reconciled away from. Planned after (and with)
// the ordinary plan of the change, as one plan: what the reconcile away from it dropped comes back where
// nothing newer stands in its way, the sidecars it wrote go to the new backup set, and the entries it moved
// aside get their names back where those are free.
import { identical, parentOf, type BaseView, type RelPath, type UpperEntry } from '../model/entry.js';
import { comparePaths } from '../model/order.js';
import { PathSet } from './path-set.js';
import { order } from './plan.js';
import { ROLLBACK_RULE } from '../model/rule.js';
import type { Action, Conflict, Plan, RollbackSource } from './types.js';

export interface RollbackInput {
  /** The ordinary plan of the change (the recorded generation to the current one). */
  readonly plan: Plan;
  readonly upper: readonly UpperEntry[];
  /** The recorded generation's manifest: an upper entry identical to it is a copy-up, nothing newer. */
  readonly b0: BaseView | null;
  readonly source: RollbackSource;
}

/** The upper as the ordinary plan leaves it, at the paths a rollback asks about. */
class After {
  private readonly upper: ReadonlyMap<RelPath, UpperEntry>;
  /** Roots the plan takes out of the upper: moved to backups, renamed away, removed. */
  private readonly gone: PathSet;
  /** Names the plan (or the rollback, as it is planned) writes: renames' targets, sidecars, restores. */
  readonly filled = new Set<RelPath>();
  /** Upper entries the rollback itself moves away. */
  readonly freed = new Set<RelPath>();
  /** Paths some action of the ordinary plan changes. */
  readonly touched: ReadonlySet<RelPath>;

  constructor(plan: Plan, upper: readonly UpperEntry[]) {
    this.upper = new Map(upper.map((e) => [e.path, e]));
    const gone: RelPath[] = [];
    const touched = new Set<RelPath>();
    for (const a of plan.actions) {
      if (a.kind === 'keep') continue;
      touched.add(a.path);
      if (a.kind === 'move-to-backups' || a.kind === 'remove-empty-dir' || a.kind === 'rename') gone.push(a.path);
      if (a.kind === 'rename') this.filled.add(a.to);
      if (a.kind === 'write-sidecar') this.filled.add(a.path);
    }
    this.gone = new PathSet(gone);
    this.touched = touched;
  }

  private isGone(p: RelPath): boolean {
    for (let d = p; d !== ''; d = parentOf(d)) if (this.gone.has(d)) return true;
    return false;
  }

  /** The upper entry at p before the plan. */
  entry(p: RelPath): UpperEntry | undefined {
    return this.upper.get(p);
  }

  /** The upper entry at p that stays where it is: the plan neither moves nor rewrites it. */
  untouched(p: RelPath): UpperEntry | undefined {
    const e = this.upper.get(p);
    return e && !this.isGone(p) && !this.touched.has(p) && !this.filled.has(p) ? e : undefined;
  }

  /** Whether something stands at p once the plan ran. */
  holds(p: RelPath): boolean {
    if (this.filled.has(p)) return true;
    return this.upper.has(p) && !this.isGone(p) && !this.freed.has(p);
  }

  /** Whether every parent of p is a directory once the plan ran, or absent (made as copy-up makes it). */
  parentsFree(p: RelPath): boolean {
    for (let d = parentOf(p); d !== ''; d = parentOf(d)) {
      if (!this.holds(d)) continue;
      if (this.filled.has(d) || this.upper.get(d)?.type !== 'dir') return false;
    }
    return true;
  }
}

/**
 * A sidecar that reconcile wrote beside an entry the plan now keeps with a sidecar again: the plan moves the
 * older one (that reconcile's) aside and writes the current base's. Undone instead: the entry stands as it
 * did before that reconcile, with no sidecar. Returns the plan so changed, and the sidecars it moves.
 */
function undoSidecars(plan: Plan, source: RollbackSource): { plan: Plan; moved: RelPath[] } {
  const wrote = new Map(source.wrote.filter((w) => w.kind === 'sidecar').map((w) => [w.path, w.from]));
  const undone = new Set(plan.actions.filter((a) => a.kind === 'write-sidecar' && wrote.get(a.path) === a.from).map((a) => a.path));
  if (undone.size === 0) return { plan, moved: [] };
  const actions: Action[] = [];
  for (const a of plan.actions) {
    if (a.kind === 'write-sidecar' && undone.has(a.path)) continue;
    if (a.kind === 'move-to-backups' && undone.has(a.path)) actions.push({ ...a, rule: ROLLBACK_RULE, reason: sidecarReason(source) });
    else if (a.kind === 'keep' && a.sidecar !== undefined && undone.has(a.sidecar)) actions.push({ kind: 'keep', path: a.path, rule: ROLLBACK_RULE, reason: `rollback: kept as it was before the reconcile of backup set ${source.set}, without a sidecar` });
    else actions.push(a);
  }
  return { plan: { ...plan, actions }, moved: [...undone] };
}

/**
 * A file that reconcile merged: the rollback puts the host's version back, so whatever the ordinary plan
 * would do to the merged file (merge it again, a sidecar beside it, move it aside) is left out.
 */
function undoMerges(plan: Plan, source: RollbackSource): Plan {
  const merged = new Set(source.wrote.filter((w) => w.kind === 'merge').map((w) => w.path));
  if (merged.size === 0) return plan;
  const at = (a: Action) => merged.has(a.path) || (a.kind === 'write-sidecar' && merged.has(a.from));
  return { ...plan, actions: plan.actions.filter((a) => !at(a)), conflicts: plan.conflicts.filter((c) => !merged.has(c.path)) };
}

const sidecarReason = (source: RollbackSource) => `rollback: sidecar written by the reconcile of backup set ${source.set}`;

/** The ordinary plan with the rollback's steps (rule 11), in the order they run. */
export function planRollback(input: RollbackInput): Plan {
  const { source } = input;
  const { plan, moved } = undoSidecars(undoMerges(input.plan, source), source);
  const after = new After(plan, input.upper);
  for (const p of moved) after.freed.add(p);
  const steps: Action[] = [];
  const conflicts: Conflict[] = [];
  const rule = ROLLBACK_RULE;
  const from = `the reconcile of backup set ${source.set}`;
  // Sidecars that reconcile wrote go to the new set; entries it moved aside get their names back.
  for (const w of source.wrote) {
    const e = after.untouched(w.path);
    if (!e || e.type === 'dir') continue;
    if (w.kind === 'sidecar') {
      steps.push({ kind: 'move-to-backups', path: w.path, rule, reason: sidecarReason(source), entry: { kind: e.kind, type: e.type } });
      after.freed.add(w.path);
    } else if (w.kind === 'merge') {
      // The merged file goes to the new set; the host's version, among the set's entries, comes back below.
      steps.push({ kind: 'move-to-backups', path: w.path, rule, reason: `rollback: merged by ${from}`, entry: { kind: e.kind, type: e.type } });
      after.freed.add(w.path);
    } else if (parentOf(w.from) === parentOf(w.path) && !after.holds(w.from)) {
      steps.push({ kind: 'rename', path: w.path, to: w.from, rule, reason: `rollback: moved aside by ${from}, name given back` });
      after.freed.add(w.path);
      after.filled.add(w.from);
    }
  }
  for (const p of [...source.entries].sort(comparePaths)) {
    const u = after.entry(p);
    const why = u && !after.freed.has(p) && !copyUp(u, input.b0)
      ? 'the upper holds a newer entry at this path'
      : after.holds(p)
        ? 'something else stands at this path once reconciled'
        : !after.parentsFree(p)
          ? 'a parent in the upper is not a directory'
          : undefined;
    if (why !== undefined) {
      conflicts.push({ path: p, rule, reason: `rollback: not restored from backup set ${source.set}: ${why}` });
      continue;
    }
    steps.push({ kind: 'restore-from-backups', path: p, rule, reason: `rollback: restored from backup set ${source.set}` });
    after.filled.add(p);
  }
  if (steps.length === 0 && conflicts.length === 0 && moved.length === 0) return plan;
  // A directory the plan would remove as empty holds what comes back now.
  const filled = new PathSet(after.filled);
  const kept = plan.actions.filter((a) => a.kind !== 'remove-empty-dir' || !filled.hasBelow(a.path));
  const actions = [...kept, ...steps].sort(order);
  return {
    actions,
    conflicts: [...plan.conflicts, ...conflicts].sort((a, b) => comparePaths(a.path, b.path)),
    ...(steps.length > 0 || moved.length > 0 ? { rollbackSet: source.set } : {}),
  };
}

/** An upper entry identical to the recorded base: a copy-up made under it, not something the host wrote. */
function copyUp(u: UpperEntry, b0: BaseView | null): boolean {
  const b = b0?.get(u.path);
  return b !== undefined && u.type !== 'dir' && u.kind === 'shadow' && identical(u, b);
}
