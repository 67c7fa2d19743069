// `state-overlay restore NAME SET [PATH…]`: put entries of a backup set back into the upper (offline).
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('restore')
    .description('move entries of a backup set back into the upper (all, or the given paths); offline')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .argument('<SET>', "backup set name, as 'state-overlay backups NAME' lists it")
    .argument('[PATH...]', 'paths to restore: absolute under the mountpoint, or relative to it (default: the whole set)')
    .action(async (name: string, set: string, paths: string[]) => {
      const [ctx, { restoreBackup }, { restoreJson, restoreText }] = await Promise.all([env.context(), import('../../ops/restore.js'), import('../render/backups.js')]);
      const ov = ctx.overlay(name);
      const r = await restoreBackup(ov, ctx.log, set, paths);
      ctx.out(ctx.json ? jsonText(restoreJson(name, r)) : restoreText(name, r, ov.config.path));
    });
}
