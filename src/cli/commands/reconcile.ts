// `state-overlay reconcile NAME [--dry-run] [--force]`: the decision table, offline; prints the plan with rule numbers.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('reconcile')
    .description('reconcile the upper with a changed base (offline); prints every step with its decision-table rule')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .option('--dry-run', 'plan and print only; change nothing')
    .option('--force', 'reconcile even if the recorded generation is the current one, and against a base that looks absent')
    .action(async (name: string, opts: { dryRun?: boolean; force?: boolean }) => {
      const [ctx, { reconcileOverlay }, { reconcileJson, reconcileText }] = await Promise.all([
        env.context(),
        import('../../ops/reconcile.js'),
        import('../render/plan.js'),
      ]);
      const ov = ctx.overlay(name);
      const r = await reconcileOverlay(ov, ctx.log, { dryRun: Boolean(opts.dryRun), force: Boolean(opts.force) });
      ctx.out(ctx.json ? jsonText(reconcileJson(name, r)) : reconcileText(name, r, ov.config.path, ctx.verbose));
    });
}
