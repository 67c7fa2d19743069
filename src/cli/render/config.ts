// The effective configuration for people (INI, headed by the files it came from) and for machines (JSON).
import type { OverlayConfig } from '../../config/schema.js';
import { document } from './json.js';

export const configJson = (config: OverlayConfig) => document('Config', config);

export function configText(config: OverlayConfig): string {
  const p = config.paths;
  return [
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
  ].join('\n');
}
