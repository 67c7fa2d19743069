// `state-overlay mount NAME`: mount the overlay as it is, without reconciling (idempotent).
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('mount')
    .description('mount the overlay (private read-only base bind, then the overlay); nothing is done if it is already mounted')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .action(async (name: string) => {
      const [ctx, { mountNamed }] = await Promise.all([env.context(), import('../../ops/mount.js')]);
      const ov = ctx.overlay(name);
      const mounted = await mountNamed(ov, ctx.log);
      if (ctx.json) return ctx.out(JSON.stringify({ name, target: ov.layout.target, mounted: true, changed: mounted }));
      ctx.out(mounted ? `mounted ${name} on ${ov.layout.target}` : `${name} is already mounted on ${ov.layout.target}`);
    });
}
