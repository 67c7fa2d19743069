// `state-overlay index NAME [--ship]`: builds or refreshes the manifest of the current base, into the
// state dir (for the next reconcile), or with --ship into the image (/usr/lib/state-overlay/NAME.manifest).
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('index')
    .description('build or refresh the manifest of the base (--ship: write it into the image for a booted host to use)')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .option('--ship', 'write <root>/usr/lib/state-overlay/NAME.manifest (image builds: --root IMAGEROOT)')
    .action(async (name: string, opts: { ship?: boolean }) => {
      const [ctx, { indexOverlay }, { progressBar }, { indexJson, indexText }] = await Promise.all([
        env.context(),
        import('../../ops/index.js'),
        import('../progress.js'),
        import('../render/index.js'),
      ]);
      const bar = await progressBar(ctx);
      let r;
      try {
        r = await indexOverlay(ctx.overlay(name), ctx.log, { ship: Boolean(opts.ship), ...(bar.onProgress ? { onProgress: bar.onProgress } : {}) });
      } finally {
        bar.stop();
      }
      ctx.out(ctx.json ? jsonText(indexJson(r)) : indexText(r, process.stdout.isTTY === true));
    });
}
