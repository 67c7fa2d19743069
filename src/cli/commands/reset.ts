// `state-overlay reset NAME [PATH…] [--dry-run] [--reload]`: move the whole upper (or the given subtrees)
// into a backup set so that the base shows again; offline, or with --reload around an unmount.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('reset')
    .description('move the whole upper, or the given paths, into a backup set so that the base shows again; restore undoes it (offline)')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .argument('[PATH...]', 'paths or globs to reset: absolute under the mountpoint, or relative to it (default: the whole upper)')
    .option('--dry-run', 'list what would move; change nothing (the overlay may stay mounted)')
    .option('--reload', 'mounted: unmount it when nothing holds it, reset, mount it again')
    .action(async (name: string, paths: string[], opts: { dryRun?: boolean; reload?: boolean }) => {
      const [ctx, { resetOverlay }, { resetJson, resetText }] = await Promise.all([env.context(), import('../../ops/reset.js'), import('../render/plan.js')]);
      const ov = ctx.overlay(name);
      const r = await resetOverlay(ov, ctx.log, paths, { dryRun: Boolean(opts.dryRun), reload: Boolean(opts.reload) });
      ctx.out(ctx.json ? jsonText(resetJson(name, r)) : resetText(name, r, ov.config.path));
    });
}
