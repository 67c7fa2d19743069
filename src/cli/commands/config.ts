// `state-overlay config NAME`: the effective configuration and the files it came from.
import type { Command } from 'commander';
import type { CommandEnv } from '../context.js';

export function register(program: Command, env: CommandEnv): void {
  program
    .command('config')
    .description('show the effective configuration of an overlay and the files it was read from')
    .argument('<NAME>', 'overlay instance name (systemd-escaped mountpoint, e.g. opt)')
    .action(async (name: string) => {
      const ctx = await env.context();
      const { config } = ctx.overlay(name);
      if (ctx.json) return ctx.out(JSON.stringify(config, null, 2));
      const p = config.paths;
      const lines = [
        `# ${config.sources.length ? config.sources.join(', ') : 'no configuration files: defaults'}`,
        '[Overlay]',
        `Path=${config.path}`,
        `Base=${config.base ?? ''}`,
        `Mode=${config.mode}`,
        `Reconcile=${config.reconcile}`,
        `UnknownBase=${config.unknownBase}`,
        `Generation=${config.generation.kind === 'command' ? `command:${config.generation.command}` : config.generation.kind}`,
        '[Paths]',
        ...p.config.map((g) => `Config=${g}`),
        `ConfigPolicy=${p.configPolicy}`,
        ...p.configReplace.map((g) => `ConfigReplace=${g}`),
        `ConfigFrom=${p.configFrom}`,
        `SuffixStyle=${p.suffixStyle}`,
        ...p.keep.map((g) => `Keep=${g}`),
        '[Backups]',
        `Keep=${config.backups.keep}`,
      ];
      ctx.out(lines.join('\n'));
    });
}
