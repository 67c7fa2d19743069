// `state-overlay preview NAME (--base DIR | --manifest FILE | --image-root DIR | --ostree-staged) [--fail-on WHAT,…]`: the
// plan the next boot applies when the new base is the one given; read-only, the overlay may stay mounted.
import type { Command } from 'commander';
import { StateOverlayError } from '../../errors.js';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

interface PreviewOpts {
  base?: string;
  manifest?: string;
  imageRoot?: string;
  ostreeStaged?: boolean;
  failOn?: string;
}

export function register(program: Command, env: CommandEnv): void {
  program
    .command('preview')
    .description("show what the next boot's reconcile will do to the host's changes when the new base is the one given (read-only; the overlay may stay mounted)")
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .option('--base <DIR>', "the next base's tree (a staged image's /opt)")
    .option('--manifest <FILE>', "the next base's shipped manifest (an image's usr/lib/state-overlay/NAME.manifest)")
    .option('--image-root <DIR>', 'the next image mounted at DIR: its shipped manifest if it has one, else its tree')
    .option('--ostree-staged', "ostree's staged deployment (bootc upgrade, ostree admin deploy --stage) as the image root")
    .option('--fail-on <WHAT>', 'exit 150 when the plan would do any of: drop (a local change to backups), aside (.rpmsave/.dpkg-old), sidecar (.rpmnew/.dpkg-dist), conflict; comma-separated')
    .action(async (name: string, opts: PreviewOpts) => {
      const given = (['base', 'manifest', 'imageRoot', 'ostreeStaged'] as const).filter((k) => opts[k] !== undefined);
      if (given.length !== 1) throw new StateOverlayError('usage', 'preview: give exactly one of --base DIR, --manifest FILE, --image-root DIR or --ostree-staged');
      const [ctx, preview, { previewJson, previewText }] = await Promise.all([env.context(), import('../../ops/preview.js'), import('../render/plan.js')]);
      const fail = (opts.failOn ?? '').split(',').filter((w) => w !== '');
      for (const w of fail) {
        if (!(preview.FAIL_ON as readonly string[]).includes(w)) throw new StateOverlayError('usage', `--fail-on ${w}: expected ${preview.FAIL_ON.join(', ')}`);
      }
      const ov = ctx.overlay(name);
      const target = opts.base !== undefined ? { base: opts.base } : opts.manifest !== undefined ? { manifest: opts.manifest } : opts.imageRoot !== undefined ? { imageRoot: opts.imageRoot } : { ostreeStaged: true as const };
      const r = await preview.previewOverlay(ov, target);
      ctx.out(ctx.json ? jsonText(previewJson(name, r)) : previewText(name, r, ov.config.path, ctx.verbose));
      const hit = preview.failures(r.plan, fail as typeof preview.FAIL_ON[number][]);
      if (hit.length > 0) throw new StateOverlayError('plan-refused', `preview ${name}: the plan would ${hit.join(', ')} (--fail-on ${fail.join(',')})`);
    });
}
