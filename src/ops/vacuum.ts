// `vacuum`: drop copy-ups identical to the base (into backups, journaled like a reconcile), offline.
import type { Overlay } from '../overlay/overlay.js';
import type { Log } from '../log/logger.js';
import { setName } from '../backups/sets.js';
import type { ReconcileSummary } from '../plan/summary.js';
import { observe } from '../observe/inputs.js';
import { baseSkip } from '../observe/submounts.js';
import { JOURNAL_VERSION, type Journal } from '../txn/journal.js';
import { planVacuum } from '../plan/plan.js';
import { goOffline } from '../txn/offline.js';
import { withSession } from '../txn/session.js';
import { summarize } from '../plan/summary.js';
import { beginTransaction, finishTransaction, resumeTransaction } from '../txn/transaction.js';
import type { Plan } from '../plan/types.js';

export interface VacuumReport extends ReconcileSummary {
  readonly plan: Plan;
  readonly dryRun: boolean;
}

export async function vacuumOverlay(ov: Overlay, log: Log, opts: { dryRun?: boolean; lockWaitMs?: number } = {}): Promise<VacuumReport> {
  const session = { offline: true, readOnly: Boolean(opts.dryRun), ...(opts.lockWaitMs === undefined ? {} : { lockWaitMs: opts.lockWaitMs }) };
  return withSession(ov, log, session, async (s) => {
    await goOffline(s, opts, resumeTransaction);
    const started = Date.now();
    const { b1, upper } = await observe({ upper: ov.layout.upper, base: ov.base, b0Manifest: null, subtrees: false, skip: baseSkip(ov) });
    const plan = planVacuum({ b1, upper, config: ov.config });
    const generation = s.state?.generation ?? null;
    const to = generation ?? 'unrecorded';
    const set = setName(new Date(), to);
    const meta = { from: generation, to, mode: ov.config.reconcile, backupSet: set };
    if (opts.dryRun || plan.actions.length === 0) {
      return { ...summarize(plan, { ...meta, backupSet: null, ms: Date.now() - started }), plan, dryRun: Boolean(opts.dryRun) };
    }
    const journal: Journal = {
      version: JOURNAL_VERSION,
      overlay: ov.name,
      origin: 'vacuum',
      mode: null,
      from: generation,
      to,
      manifest: null,
      set,
      startedAt: new Date().toISOString(),
      plan,
    };
    beginTransaction(s, journal);
    const done = await finishTransaction(s, journal);
    const { summary } = done;
    log.info({ event: 'vacuum.done', name: ov.name, dropped: summary.dropped, set: summary.backupSet });
    return { ...summary, plan: done.plan, dryRun: false };
  });
}
