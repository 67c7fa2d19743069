// `state-overlay mount NAME`: mount the overlay as it is, without reconciling (idempotent).
import fs from 'node:fs';
import type { Command } from 'commander';
import { StateOverlayError } from '../../errors.js';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('mount')
    .description('mount the overlay (private read-only base bind, then the overlay); nothing is done if it is already mounted')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .action(async (name: string) => {
      const [ctx, { mountOverlay }, { withLock }, { ensureStateDir }, { mountJson, mountText }] = await Promise.all([
        env.context(),
        import('../../mount/overlay.js'),
        import('../../state/lock.js'),
        import('../../state/state-dir.js'),
        import('../render/mount.js'),
      ]);
      const ov = ctx.overlay(name);
      if (fs.existsSync(ov.layout.journal)) {
        throw new StateOverlayError('busy', `${ov.layout.journal}: a reconcile of ${name} was interrupted; finish it with 'state-overlay run ${name}' before mounting`, {
          path: ov.layout.journal,
        });
      }
      ensureStateDir(ov.layout);
      // The lock keeps a mount from racing a reconcile of the same upper.
      const changed = await withLock(ov.layout.lockFile, { what: `overlay ${name}`, waitMs: 5000 }, () => mountOverlay(ov, ctx.log));
      const m = { name, target: ov.layout.target, changed };
      ctx.out(ctx.json ? jsonText(mountJson(m)) : mountText(m));
    });
}
