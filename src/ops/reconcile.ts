// `reconcile`: the decision table for a base generation change, offline: observe the upper and both
// bases, plan, then run the plan as a journaled transaction, and prune old backup sets.
import fs from 'node:fs';
import path from 'node:path';
import type { Log } from '../log/logger.js';
import { pruneSets, setName } from '../backups/sets.js';
import { manifestPath, viewOf } from '../manifest/store.js';
import { assertBaseTrusted } from '../observe/base-check.js';
import { OLD_MANIFEST_NOTE, classesOfGenerations } from '../observe/package-db.js';
import { baseSkip } from '../observe/submounts.js';
import { currentGeneration, generationManifest, type Generation } from '../observe/generation.js';
import { observe } from '../observe/inputs.js';
import { NO_MERGES, observeMerges, type Merges } from '../observe/merges.js';
import { putBlob, stateStore } from '../manifest/pristine.js';
import { pathClassifier } from '../plan/classes.js';
import { StateOverlayError } from '../errors.js';
import type { Overlay } from '../overlay/overlay.js';
import { planReconcile } from '../plan/plan.js';
import { namesBeside } from '../plan/suffix.js';
import { summarize, type ReconcileSummary } from '../plan/summary.js';
import { planRollback } from '../plan/rollback.js';
import type { Plan, PlanInput } from '../plan/types.js';
import { rollbackSource } from '../backups/rollback.js';
import { JOURNAL_VERSION, type Journal } from '../txn/journal.js';
import { goOffline } from '../txn/offline.js';
import { withSession, type OverlaySession } from '../txn/session.js';
import { beginTransaction, finishTransaction, resumeTransaction } from '../txn/transaction.js';
import { isRecorded, recordManifest } from './record.js';

export interface ReconcileOptions {
  /** Plan and report only; nothing changes. */
  readonly dryRun?: boolean;
  /** The current generation when the caller knows it already (run); otherwise it is computed. */
  readonly current?: Pick<Generation, 'generation' | 'shipped' | 'entries'>;
  /** Reconcile even when the recorded generation is the current one, and against a base that looks absent (observe/base-check.ts). */
  readonly force?: boolean;
  readonly lockWaitMs?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** The caller (run) checked the base already (observe/base-check.ts). */
  readonly baseTrusted?: boolean;
}

export interface ReconcileReport extends ReconcileSummary {
  readonly plan: Plan;
  /** The recorded generation was the current one: nothing planned. */
  readonly upToDate: boolean;
  readonly dryRun: boolean;
  /** An interrupted reconcile was finished first. */
  readonly resumed: boolean;
}

/** A plan, and the merged contents its merge actions write (staged before the journal). */
interface Planned {
  readonly plan: Plan;
  readonly merged: ReadonlyMap<string, Buffer>;
}

/** The plan of the current base against the recorded one: observe, then plan once. */
async function planFor(s: OverlaySession, current: Pick<Generation, 'generation' | 'shipped'>): Promise<Planned> {
  const { overlay: ov } = s;
  const { config, layout } = ov;
  if (config.reconcile === 'none') return { plan: planReconcile({ b0: null, b1: viewOf([]), upper: [], config }), merged: new Map() };
  const from = config.paths.configFrom;
  const { classes, b0Unrecorded } = await classesOfGenerations({ b0Manifest: s.manifestFile, current: generationManifest(current)?.file ?? null, root: layout.root, mountpoint: config.path, from });
  if (b0Unrecorded) s.log.warn({ event: 'warning', message: `ConfigFrom=${from}: ${OLD_MANIFEST_NOTE}`, path: s.manifestFile ?? layout.manifestsDir });
  const inputs = await observe({
    upper: layout.upper,
    base: ov.base,
    b0Manifest: s.manifestFile,
    current: generationManifest(current),
    subtrees: config.reconcile === 'changed',
    besides: namesBeside(config, classes),
    skip: baseSkip(ov),
  });
  const merges = config.reconcile === 'changed' ? mergesOf(ov, inputs, classes, ov.base) : NO_MERGES;
  const plan = planChange(ov, { ...inputs, ...(classes ? { classes } : {}), merges: merges.views, follow: merges.follow }, { from: s.state?.generation ?? null, to: current.generation }, s.log);
  return { plan, merged: merges.contents };
}

/** The three-way merges the upper's files under a merge driver would get (observe/merges.ts). */
export function mergesOf(ov: Overlay, inputs: Pick<PlanInput, 'b0' | 'b1' | 'upper'>, classes: PlanInput['classes'], base: string | null): Merges {
  const { config } = ov;
  if (config.paths.configMerge === 'none' && config.paths.merge.length === 0) return NO_MERGES;
  return observeMerges({ layout: ov.layout, base, ...inputs, classify: pathClassifier(config.path, config.paths, classes), maxSize: config.paths.mergeMaxSize, mountpoint: config.path });
}

/** Stores the merged contents the plan's merge actions write, durably, before its journal names them. */
function stageMerges(s: OverlaySession, planned: Planned): void {
  for (const a of planned.plan.actions) {
    if (a.kind !== 'merge') continue;
    const content = planned.merged.get(a.digest);
    if (content === undefined) throw new StateOverlayError('internal', `merge of ${a.path}: no merged content staged`, { path: s.layout.upper });
    putBlob(stateStore(s.layout), content);
  }
}

/**
 * The plan of a change from the recorded generation to the current one: the decision table, and on a
 * rollback (Rollback=restore, a backup set of the reconcile current → recorded) the steps that undo it.
 * The one planning of both reconcile and preview.
 */
export function planChange(ov: Overlay, inputs: Omit<PlanInput, 'config'>, gens: { readonly from: string | null; readonly to: string }, log?: Log): Plan {
  const { config, layout } = ov;
  const plan = planReconcile({ ...inputs, config });
  if (config.rollback !== 'restore' || config.reconcile === 'none' || gens.from === null || gens.from === gens.to) return plan;
  const source = rollbackSource(layout, gens.from, gens.to);
  if (source === null) return plan;
  log?.info({ event: 'rollback.found', name: ov.name, set: source.set, from: gens.from, to: gens.to });
  return planRollback({ plan, upper: inputs.upper, b0: inputs.b0, source });
}

/** Applies Backups.Keep= (sets in protect are kept and counted). */
function prune(s: OverlaySession, protect: ReadonlySet<string>): void {
  for (const set of pruneSets(s.layout, s.overlay.config.backups.keep, protect)) s.log.info({ event: 'backups.pruned', name: s.overlay.name, set });
}

/** Reconciles in an open session (run passes its own); the overlay must be offline. */
export async function reconcileIn(s: OverlaySession, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const resumed = await goOffline(s, opts, resumeTransaction);
  return reconcileTo(s, opts.current ?? (await currentGeneration(s.overlay)), opts, resumed);
}

async function reconcileTo(s: OverlaySession, current: Pick<Generation, 'generation' | 'shipped' | 'entries'>, opts: ReconcileOptions, resumed: boolean): Promise<ReconcileReport> {
  const { overlay: ov, log, layout } = s;
  const { config } = ov;
  const started = Date.now();
  const from = s.state?.generation ?? null;
  const to = current.generation;
  const meta = { from, to, mode: config.reconcile, backupSet: null, ms: 0 };
  const dryRun = Boolean(opts.dryRun);
  if (!opts.force && from === to) {
    const plan: Plan = { actions: [], conflicts: [] };
    // Retention as after a reconcile: one cut between its state and its pruning is completed here.
    if (!dryRun) prune(s, new Set());
    return { ...summarize(plan, meta), plan, upToDate: true, dryRun, resumed };
  }
  const warn = (message: string) => log.warn({ event: 'warning', message, path: ov.base });
  if (config.reconcile !== 'none' && !opts.baseTrusted) assertBaseTrusted({ base: ov.base, recorded: s.manifestFile, shipped: current.shipped, entries: current.entries }, Boolean(opts.force), warn);
  log.info({ event: 'reconcile.start', name: ov.name, from, to, mode: config.reconcile });
  const planned = await planFor(s, current);
  const { plan } = planned;
  for (const c of plan.conflicts) log.warn({ event: 'reconcile.conflict', path: c.path, rule: c.rule, reason: c.reason });
  if (dryRun) return { ...summarize(plan, { ...meta, ms: Date.now() - started }), plan, upToDate: false, dryRun, resumed };
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
  stageMerges(s, planned);
  beginTransaction(s, journal);
  const done = await finishTransaction(s, journal, opts.onProgress ? { onProgress: opts.onProgress } : {});
  const { summary } = done;
  prune(s, new Set([journal.set]));
  log.info({ event: 'reconcile.done', name: ov.name, actions: summary.actions, dropped: summary.dropped, kept: summary.kept, ms: Date.now() - started });
  // The plan as carried out: an action whose premise no longer held is reported as a conflict.
  return { ...summary, ms: Date.now() - started, plan: done.plan, upToDate: false, dryRun: false, resumed };
}

/**
 * Reconciles the upper of an unmounted overlay with its current base (DESIGN section 4). Offline the
 * base is readable as it is: the manifest of the generation now recorded is kept at once (run does it
 * after its mount), so the next update is judged against a known B0, not under rule 10.
 */
export async function reconcileOverlay(ov: Overlay, log: Log, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const session = { offline: true, readOnly: Boolean(opts.dryRun), ...(opts.lockWaitMs === undefined ? {} : { lockWaitMs: opts.lockWaitMs }) };
  return withSession(ov, log, session, async (s) => {
    const resumed = await goOffline(s, opts, resumeTransaction);
    // A generation given by the caller (run, tests) is the caller's to record.
    const computed = opts.current === undefined ? await currentGeneration(ov) : undefined;
    const r = await reconcileTo(s, opts.current ?? computed!, opts, resumed);
    if (computed !== undefined && !r.dryRun && ov.config.reconcile !== 'none' && !isRecorded(s, computed)) {
      await recordManifest(s, computed, { baseDir: ov.base });
    }
    return r;
  });
}
