// `state-overlay vacuum NAME [--dry-run]`: drop copy-ups identical to the base (into backups), offline.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('vacuum')
    .description('move copy-ups identical to the base (and the empty directories they leave) to backups (offline)')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .option('--dry-run', 'list what would go; change nothing')
    .action(async (name: string, opts: { dryRun?: boolean }) => {
      const [ctx, { vacuumJson, vacuumText }, { vacuumOverlay }] = await Promise.all([
        env.context(),
        import('../render/plan.js'),
        import('../../ops/vacuum.js'),
      ]);
      const ov = ctx.overlay(name);
      const r = await vacuumOverlay(ov, ctx.log, { dryRun: Boolean(opts.dryRun) });
      ctx.out(ctx.json ? jsonText(vacuumJson(name, r)) : vacuumText(name, r, ov.config.path, ctx.verbose));
    });
}
