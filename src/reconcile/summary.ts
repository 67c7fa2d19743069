// Counts of a plan, as state.json and `reconcile --json` report them.
import type { ReconcileMode } from '../config/schema.js';
import type { ReconcileSummary } from '../state/state-file.js';
import type { Plan } from './types.js';

export function summarize(plan: Plan, meta: { from: string | null; to: string; mode: ReconcileMode; backupSet: string | null; ms: number; at?: Date }): ReconcileSummary {
  const count = (k: string) => plan.actions.filter((a) => a.kind === k).length;
  const dropped = count('move-to-backups');
  return {
    at: (meta.at ?? new Date()).toISOString(),
    from: meta.from,
    to: meta.to,
    mode: meta.mode,
    actions: plan.actions.length - count('keep'),
    dropped,
    renamed: count('rename'),
    sidecars: count('write-sidecar'),
    attrs: count('set-attrs'),
    removedDirs: count('remove-empty-dir'),
    kept: count('keep'),
    conflicts: plan.conflicts.length,
    backupSet: dropped > 0 ? meta.backupSet : null,
    ms: meta.ms,
  };
}
