// `state-overlay backups NAME`: the backup sets, newest last, with what each holds.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('backups')
    .description('list the backup sets of an overlay (entries reconcile and vacuum moved out of the upper)')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .action(async (name: string) => {
      const [ctx, { backupSets }] = await Promise.all([env.context(), import('../../ops/backups.js')]);
      const ov = ctx.overlay(name);
      const sets = backupSets(ov);
      if (ctx.json) {
        return ctx.out(JSON.stringify({
          apiVersion: 1,
          name,
          sets: sets.map((s) => ({
            set: s.name,
            origin: s.index?.origin ?? null,
            from: s.index?.from ?? null,
            to: s.index?.to ?? null,
            createdAt: s.index?.createdAt ?? null,
            entries: (s.index?.entries ?? []).map((e) => ({ path: e.display, pathBase64: Buffer.from(e.path, 'latin1').toString('base64'), kind: e.kind, type: e.type, rule: e.rule, reason: e.reason })),
          })),
        }, null, 2));
      }
      if (sets.length === 0) return ctx.out(`${name}: no backup sets`);
      const mp = ov.config.path.replace(/\/+$/, '');
      const lines: string[] = [];
      for (const s of sets) {
        const entries = s.index?.entries ?? [];
        lines.push(`${s.name}  ${s.index ? `${s.index.origin} ${s.index.from ?? '(none)'} -> ${s.index.to}` : '(no index)'}  ${entries.length} entries`);
        for (const e of entries) lines.push(`  rule ${String(e.rule).padStart(2)}  ${e.kind.padEnd(10)}  ${mp}/${e.display}  (${e.reason})`);
      }
      ctx.out(lines.join('\n'));
    });
}
