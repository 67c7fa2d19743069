// `state-overlay unmount NAME [--lazy]`: unmount the overlay and its base bind (idempotent).
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('unmount')
    .alias('umount')
    .description('unmount the overlay and its base bind; a busy mount fails naming the processes holding it')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .option('--lazy', 'detach even when busy (umount -l): the mount goes once its last user leaves')
    .action(async (name: string, opts: { lazy?: boolean }) => {
      const [ctx, { unmountOverlay }] = await Promise.all([env.context(), import('../../ops/unmount.js')]);
      const ov = ctx.overlay(name);
      const done = await unmountOverlay(ov, ctx.log, { lazy: opts.lazy === true });
      if (ctx.json) return ctx.out(JSON.stringify({ name, target: ov.layout.target, mounted: false, changed: done }));
      ctx.out(done ? `unmounted ${name} from ${ov.layout.target}` : `${name} is not mounted on ${ov.layout.target}`);
    });
}
