// `state-overlay config NAME`: the effective configuration and the files it came from.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('config')
    .description('show the effective configuration of an overlay and the files it was read from')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .action(async (name: string) => {
      const [ctx, { configJson, configText }] = await Promise.all([env.context(), import('../render/config.js')]);
      const ov = ctx.overlay(name);
      if (ctx.json) ctx.out(jsonText(configJson(ov.config)));
      else ctx.out(configText(ov.config, await import('../../ops/classes.js').then((m) => m.classSummary(ov))));
    });
}
