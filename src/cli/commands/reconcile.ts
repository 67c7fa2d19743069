// `state-overlay reconcile NAME [--dry-run] [--force]`: the decision table, offline; prints the plan with rule numbers.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('reconcile')
    .description('reconcile the upper with a changed base (offline); prints every step with its decision-table rule')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .option('--dry-run', 'plan and print only; change nothing')
    .option('--force', 'reconcile even if the recorded generation is the current one')
    .action(async (name: string, opts: { dryRun?: boolean; force?: boolean }) => {
      const [ctx, { reconcileOverlay }, { planJson, renderPlan }] = await Promise.all([
        env.context(),
        import('../../ops/reconcile.js'),
        import('../render/plan.js'),
      ]);
      const ov = ctx.overlay(name);
      const r = await reconcileOverlay(ov, ctx.log, { dryRun: Boolean(opts.dryRun), force: Boolean(opts.force) });
      const { plan, ...summary } = r;
      if (ctx.json) return ctx.out(JSON.stringify({ apiVersion: 1, name, ...summary, ...planJson(plan) }, null, 2));
      if (r.resumed) ctx.out(`finished an interrupted reconcile of ${name}`);
      if (r.upToDate) return ctx.out(`${name}: base generation ${r.to} already reconciled; nothing to do`);
      const head = r.dryRun ? `${name}: would reconcile ${r.from ?? '(none recorded)'} -> ${r.to} (Reconcile=${r.mode})` : `${name}: reconciled ${r.from ?? '(none recorded)'} -> ${r.to} (Reconcile=${r.mode})`;
      const lines = renderPlan(plan, ov.config.path);
      const tail = `${r.dropped} dropped, ${r.renamed} moved aside, ${r.sidecars} sidecars, ${r.attrs} attrs, ${r.removedDirs} empty dirs removed, ${r.kept} kept, ${r.conflicts} warnings${r.backupSet && !r.dryRun ? `; backups in ${r.backupSet}` : ''}`;
      ctx.out([head, ...lines, tail].join('\n'));
    });
}
