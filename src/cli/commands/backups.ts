// `state-overlay backups NAME`: the backup sets, newest last, with what each holds.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('backups')
    .description('list the backup sets of an overlay (entries reconcile and vacuum moved out of the upper)')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .action(async (name: string) => {
      const [ctx, { backupSets }, { backupsJson, backupsText }] = await Promise.all([env.context(), import('../../ops/backups.js'), import('../render/backups.js')]);
      const ov = ctx.overlay(name);
      const sets = backupSets(ov);
      ctx.out(ctx.json ? jsonText(backupsJson(name, sets)) : backupsText(name, sets, ov.config.path));
    });
}
