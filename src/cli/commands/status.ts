// `state-overlay status [NAME] [--json]`: the versioned Status model, as JSON or the human view.
import type { Command } from 'commander';
import { StateOverlayError } from '../../errors.js';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('status')
    .description('mounted?, generations, upper entries by kind, upper size, last reconcile, backups and pending work')
    .argument('[NAME]', 'one overlay (default: every overlay with a state dir or a configuration file)')
    .action(async (name: string | undefined) => {
      const [ctx, { statusOf }, { renderStatus, statusJson }] = await Promise.all([env.context(), import('../../ops/status.js'), import('../render/status.js')]);
      const status = await statusOf(ctx.root, name, (n) => ctx.overlay(n));
      ctx.out(ctx.json ? jsonText(statusJson(status)) : renderStatus(status));
      // The others were shown; the exit code is that of the first overlay that could not be read.
      const failed = status.failed ?? [];
      if (failed.length > 0) {
        throw new StateOverlayError(failed[0]!.code, `${failed.length} of ${failed.length + status.overlays.length} overlays could not be read: ${failed.map((f) => f.name).join(', ')}`, { reported: true });
      }
    });
}
