// `state-overlay run NAME [--reload] [--watch]`: the service entry: reconcile if needed, mount, record B0.
import type { Command } from 'commander';
import { errorChain } from '../../errors.js';
import type { RunResult } from '../../ops/run.js';
import type { CommandEnv } from '../context.js';
import { jsonLine } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('run')
    .description('service entry: reconcile if the base generation changed, mount, then record the manifest of the base for the next update')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .option('--reload', 'if mounted and the base changed: unmount, reconcile and mount again (deferred while the mount is busy)')
    .option('--watch', 'stay running and reload whenever the base changes while mounted')
    .option('--force', 'reconcile and mount even a base that looks absent (empty while its manifest lists entries)')
    .action(async (name: string, opts: { reload?: boolean; watch?: boolean; force?: boolean }) => {
      const [ctx, { runOverlay }, { createNotifier }, { runJson, runText }] = await Promise.all([
        env.context(),
        import('../../ops/run.js'),
        import('../../systemd/notify.js'),
        import('../render/mount.js'),
      ]);
      const ov = ctx.overlay(name);
      // Under ExecReload= this process is a helper beside the unit's main process (or none: RemainAfterExit).
      const notifier = createNotifier({ log: ctx.log, helper: opts.reload === true && !opts.watch });
      const report = (r: RunResult) => ctx.out(ctx.json ? jsonLine(runJson(r)) : runText(r, ov.layout.target));
      report(await runOverlay(ov, ctx.log, { notifier, reload: opts.reload === true, force: opts.force === true }));
      if (!opts.watch) return;
      // A failed reload is logged and the watch goes on: the overlay stays as it was.
      const onError = (err: unknown) => ctx.log.error({ event: 'warning', message: `reload of ${name} failed: ${errorChain(err).join(': ')}` });
      const { watchBase } = await import('../../ops/watch.js');
      const watch = await watchBase(ov, ctx.log, { notifier, onReload: report, onError });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      await watch.close();
    });
}
