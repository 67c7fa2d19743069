// `state-overlay unmount NAME [--lazy]`: unmount the overlay and its base bind (idempotent).
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('unmount')
    .alias('umount')
    .description('unmount the overlay and its base bind; a busy mount fails naming the processes holding it')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .option('--lazy', 'detach even when busy (umount -l), for shutdown only: until its last user leaves, the overlay still writes into the upper and reconcile and mount refuse')
    .action(async (name: string, opts: { lazy?: boolean }) => {
      const [ctx, { unmountNamed }, { unmountJson, unmountText }] = await Promise.all([env.context(), import('../../ops/unmount.js'), import('../render/mount.js')]);
      const m = { name, ...(await unmountNamed(ctx.root, name, ctx.log, { lazy: opts.lazy === true })) };
      ctx.out(ctx.json ? jsonText(unmountJson(m)) : unmountText(m));
    });
}
