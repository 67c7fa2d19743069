// reconcileOverlay: lock, refuse while mounted, finish an interrupted run, then plan and apply the
// decision table for a base generation change, and prune old backup sets.
import fs from 'node:fs';
import path from 'node:path';
import type { Overlay } from '../overlay/overlay.js';
import type { Log } from '../log/logger.js';
import { currentGeneration, generationManifest, type Generation } from '../observe/generation.js';
import { manifestPath } from '../manifest/store.js';
import { pruneSets, setName } from '../backups/sets.js';
import type { ReconcileSummary } from '../plan/summary.js';
import { readState, stateManifestFile } from '../state/state-file.js';
import { loadDpkgConffiles } from '../observe/conffiles.js';
import { faultFromEnv, type ExecuteTarget } from '../txn/execute.js';
import { withSidecarDigests } from '../observe/digests.js';
import { gatherInputs, planSeeingWrittenNames } from '../observe/inputs.js';
import { JOURNAL_VERSION, type Journal } from '../txn/journal.js';
import { planReconcile } from '../plan/plan.js';
import { summarize } from '../plan/summary.js';
import { finishInterrupted, offlineSession } from '../txn/session.js';
import { beginTransaction, finishTransaction } from '../txn/transaction.js';
import type { Plan } from '../plan/types.js';

export interface ReconcileOptions {
  /** Plan and report only; nothing changes. */
  readonly dryRun?: boolean;
  /** The current generation when the caller knows it already (run); otherwise it is computed. */
  readonly current?: Pick<Generation, 'generation' | 'shipped'>;
  /** Reconcile even when the recorded generation is the current one. */
  readonly force?: boolean;
  readonly lockWaitMs?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ReconcileReport extends ReconcileSummary {
  readonly plan: Plan;
  /** The recorded generation was the current one: nothing planned. */
  readonly upToDate: boolean;
  readonly dryRun: boolean;
  /** An interrupted reconcile was finished first. */
  readonly resumed: boolean;
}

const target = (ov: Overlay): ExecuteTarget => ({ layout: ov.layout, base: ov.base });

async function reconcileLocked(ov: Overlay, log: Log, opts: ReconcileOptions, resumed: boolean): Promise<ReconcileReport> {
  const { layout, config } = ov;
  const started = Date.now();
  const state = readState(layout);
  const from = state?.generation ?? null;
  const current = opts.current ?? (await currentGeneration(ov));
  const to = current.generation;
  const meta = { from, to, mode: config.reconcile, backupSet: null, ms: 0 };
  if (!opts.force && from === to) {
    return { ...summarize({ actions: [], conflicts: [] }, meta), plan: { actions: [], conflicts: [] }, upToDate: true, dryRun: Boolean(opts.dryRun), resumed };
  }
  log.info({ event: 'reconcile.start', name: ov.name, from, to, mode: config.reconcile });
  const shipped = generationManifest(current);
  const inputs = config.reconcile === 'none'
    ? { b0: null, b1: { get: () => undefined, under: () => [] }, upper: [] }
    : gatherInputs(layout.upper, ov.base, stateManifestFile(layout, state), config.reconcile === 'changed', shipped);
  const conffiles = config.paths.configFrom === 'dpkg' ? loadDpkgConffiles(ov.layout.root) : undefined;
  const planned = planSeeingWrittenNames(inputs, ov.base, shipped, (i) => planReconcile({ ...i, config, ...(conffiles ? { conffiles } : {}) }));
  const plan = withSidecarDigests(planned, ov.base);
  for (const c of plan.conflicts) log.warn({ event: 'reconcile.conflict', path: c.path, rule: c.rule, reason: c.reason });
  if (opts.dryRun) {
    return { ...summarize(plan, { ...meta, ms: Date.now() - started }), plan, upToDate: false, dryRun: true, resumed };
  }
  const newManifest = manifestPath(layout, to);
  const journal: Journal = {
    version: JOURNAL_VERSION,
    overlay: ov.name,
    origin: 'reconcile',
    mode: config.reconcile,
    from,
    to,
    // The new generation's manifest, once something has written it (run records it after the mount).
    manifest: fs.existsSync(newManifest) ? path.basename(newManifest) : null,
    set: setName(new Date(), to),
    startedAt: new Date().toISOString(),
    plan,
  };
  beginTransaction(target(ov), journal);
  const { summary } = await finishTransaction(target(ov), journal, log, { faultAfter: faultFromEnv(), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  for (const set of pruneSets(layout, config.backups.keep, new Set([journal.set]))) log.info({ event: 'backups.pruned', name: ov.name, set });
  log.info({ event: 'reconcile.done', name: ov.name, actions: summary.actions, dropped: summary.dropped, kept: summary.kept, ms: Date.now() - started });
  return { ...summary, ms: Date.now() - started, plan, upToDate: false, dryRun: false, resumed };
}

/** Reconciles the upper of an unmounted overlay with its current base (DESIGN section 4). */
export async function reconcileOverlay(ov: Overlay, log: Log, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  return offlineSession(ov, log, opts, (resumed) => reconcileLocked(ov, log, opts, resumed));
}

export { finishInterrupted };
