// `state-overlay status [NAME] [--json | --format prometheus] [--output FILE]`: the versioned Status
// model, as JSON, the human view, or Prometheus text for node_exporter's textfile collector.
import path from 'node:path';
import type { Command } from 'commander';
import { StateOverlayError } from '../../errors.js';
import type { StatusFailure } from '../../ops/status-model.js';
import type { CommandEnv } from '../context.js';
import { jsonText } from '../render/json.js';

export const STATUS_FORMATS = ['human', 'prometheus'] as const;

export function register(program: Command, env: CommandEnv): void {
  program
    .command('status')
    .description('mounted?, generations, upper entries by kind, upper size, last reconcile, backups and pending work')
    .argument('[NAME]', 'one overlay (default: every overlay with a state dir or a configuration file)')
    .option('--format <FORMAT>', "human (default; --json for JSON) or prometheus: node_exporter's textfile format, with the bytes of the backups too")
    .option('--output <FILE>', 'write the output to FILE atomically (temp file, fsync, rename; mode 0644) instead of stdout')
    .action(async (name: string | undefined, opts: { format?: string; output?: string }) => {
      const [ctx, { statusOf }, { renderStatus, statusJson }] = await Promise.all([env.context(), import('../../ops/status.js'), import('../render/status.js')]);
      const format = opts.format ?? 'human';
      if (!(STATUS_FORMATS as readonly string[]).includes(format)) throw new StateOverlayError('usage', `--format ${format}: expected human or prometheus`);
      if (format === 'prometheus' && ctx.json) throw new StateOverlayError('usage', '--format prometheus and --json: choose one');
      let text: string;
      let failed: readonly StatusFailure[];
      let shown: number;
      if (format === 'prometheus') {
        const [{ metricsOf }, { metricsText }] = await Promise.all([import('../../ops/metrics.js'), import('../render/metrics.js')]);
        const m = await metricsOf(ctx.root, name, (n) => ctx.overlay(n));
        [text, failed, shown] = [metricsText(m), m.status.failed ?? [], m.status.overlays.length];
      } else {
        const status = await statusOf(ctx.root, name, (n) => ctx.overlay(n));
        [text, failed, shown] = [ctx.json ? jsonText(statusJson(status)) : renderStatus(status), status.failed ?? [], status.overlays.length];
      }
      if (opts.output === undefined) ctx.out(text);
      else {
        const { writeFileAtomic } = await import('../../state/atomic.js');
        // Readable by node_exporter, which runs as its own user.
        writeFileAtomic(path.resolve(opts.output), text.endsWith('\n') ? text : `${text}\n`, 0o644);
      }
      // The others were shown; the exit code is that of the first overlay that could not be read.
      if (failed.length > 0) {
        throw new StateOverlayError(failed[0]!.code, `${failed.length} of ${failed.length + shown} overlays could not be read: ${failed.map((f) => f.name).join(', ')}`, { reported: true });
      }
    });
}
