// `state-overlay diff NAME`: every upper entry with its kind and whether the base changed under it.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('diff')
    .description('list every upper entry with its kind (state, shadow, merged-dir, opaque-dir, whiteout, foreign) and whether the base changed under it')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .action(async (name: string) => {
      const [ctx, { upperDiff }, { diffJson, diffText }] = await Promise.all([env.context(), import('../../ops/diff.js'), import('../render/diff.js')]);
      const d = await upperDiff(ctx.overlay(name));
      ctx.out(ctx.json ? jsonText(diffJson(d)) : diffText(d));
    });
}
