// `state-overlay status [NAME] [--json]`: the versioned Status model, as JSON or the human view.
import type { Command } from 'commander';
import type { Status } from '../../ops/status-model.js';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('status')
    .description('mounted?, generations, upper entries by kind, upper size, last reconcile, backups and pending work')
    .argument('[NAME]', 'one overlay (default: every overlay with a state dir or a configuration file)')
    .action(async (name: string | undefined) => {
      const [ctx, { readMountinfo }, { collectStatus }, { knownOverlays }, { STATUS_API_VERSION }, { renderStatus, statusJson }] = await Promise.all([
        env.context(),
        import('../../mount/mountinfo.js'),
        import('../../ops/status.js'),
        import('../../overlay/list.js'),
        import('../../ops/status-model.js'),
        import('../render/status.js'),
      ]);
      const names = name === undefined ? knownOverlays(ctx.root) : [name];
      const mounts = readMountinfo();
      const overlays = [];
      for (const n of names) overlays.push(await collectStatus(ctx.overlay(n), mounts));
      const status: Status = { apiVersion: STATUS_API_VERSION, overlays };
      ctx.out(ctx.json ? jsonText(statusJson(status)) : renderStatus(status));
    });
}
