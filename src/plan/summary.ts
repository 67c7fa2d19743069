// Counts of a plan, as state.json and `reconcile --json` report them.
import type { ReconcileMode } from '../config/schema.js';
import type { Plan } from './types.js';

/** What one reconcile did (also what `reconcile --json` reports). */
export interface ReconcileSummary {
  /** ISO time the reconcile finished. */
  readonly at: string;
  readonly from: string | null;
  readonly to: string;
  readonly mode: ReconcileMode;
  /** Actions that changed the upper. */
  readonly actions: number;
  readonly dropped: number;
  readonly renamed: number;
  readonly sidecars: number;
  /** Files replaced by a clean three-way merge (their host versions in the backup set). */
  readonly merged: number;
  readonly attrs: number;
  readonly removedDirs: number;
  /** Entries a rollback brought back from the backup set of the reconcile it undoes (rule 11). */
  readonly restored: number;
  /** Recorded keep decisions (pure state is not counted). */
  readonly kept: number;
  readonly conflicts: number;
  /** Name of the backup set under backups/, or null when nothing was moved. */
  readonly backupSet: string | null;
  readonly ms: number;
}

export function summarize(plan: Plan, meta: { from: string | null; to: string; mode: ReconcileMode; backupSet: string | null; ms: number; at?: Date }): ReconcileSummary {
  const count = (k: string) => plan.actions.filter((a) => a.kind === k).length;
  const dropped = count('move-to-backups');
  const merged = count('merge');
  return {
    at: (meta.at ?? new Date()).toISOString(),
    from: meta.from,
    to: meta.to,
    mode: meta.mode,
    actions: plan.actions.length - count('keep'),
    dropped,
    renamed: count('rename'),
    sidecars: count('write-sidecar'),
    merged,
    attrs: count('set-attrs'),
    removedDirs: count('remove-empty-dir'),
    restored: count('restore-from-backups'),
    kept: count('keep'),
    conflicts: plan.conflicts.length,
    backupSet: dropped > 0 || merged > 0 ? meta.backupSet : null,
    ms: meta.ms,
  };
}
