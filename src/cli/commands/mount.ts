// `state-overlay mount NAME`: mount the overlay as it is, without reconciling (idempotent).
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('mount')
    .description('mount the overlay (private read-only base bind, then the overlay); nothing is done if it is already mounted')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .action(async (name: string) => {
      const [ctx, { mountNamed }, { mountJson, mountText }] = await Promise.all([env.context(), import('../../ops/mount.js'), import('../render/mount.js')]);
      const ov = ctx.overlay(name);
      const m = { name, target: ov.layout.target, changed: await mountNamed(ov, ctx.log) };
      ctx.out(ctx.json ? jsonText(mountJson(m)) : mountText(m));
    });
}
