// The effective configuration for people (INI, headed by the files it came from) and for machines (JSON).
import type { OverlayConfig } from '../../config/schema.js';
import type { ClassSummary } from '../../ops/classes.js';
import { document } from './json.js';

export const configJson = (config: OverlayConfig) => document('Config', config);

/** Comment lines under ConfigFrom=: where the current base's package classes come from, and how many of each. */
function classLines(c: ClassSummary | null): string[] {
  if (c === null) return [];
  const counts = Object.entries(c.counts).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${n} ${k}`);
  return [`# classes from ${c.source} (${c.dbs === null ? 'none recorded' : c.dbs.length === 0 ? 'no database' : c.dbs.join(', ')}): ${counts.length ? counts.join(', ') : 'none'}; globs add to them`];
}

/** Bytes as MergeMaxSize= takes them: the largest unit that divides them (1048576 → 1M). */
const size = (n: number): string => {
  for (const [unit, b] of [['G', 1 << 30], ['M', 1 << 20], ['K', 1 << 10]] as const) if (n > 0 && n % b === 0) return `${n / b}${unit}`;
  return String(n);
};

export function configText(config: OverlayConfig, classes: ClassSummary | null = null): string {
  const p = config.paths;
  return [
    `# ${config.sources.length ? config.sources.join(', ') : 'no configuration files: defaults'}`,
    '[Overlay]',
    `Path=${config.path}`,
    `Base=${config.base ?? ''}`,
    `Mode=${config.mode}`,
    `Reconcile=${config.reconcile}`,
    `UnknownBase=${config.unknownBase}`,
    `Rollback=${config.rollback}`,
    `Generation=${config.generation.kind === 'command' ? `command:${config.generation.command}` : config.generation.kind}`,
    '[Paths]',
    ...p.config.map((g) => `Config=${g}`),
    `ConfigPolicy=${p.configPolicy}`,
    ...p.configReplace.map((g) => `ConfigReplace=${g}`),
    `ConfigFrom=${p.configFrom}`,
    ...classLines(classes),
    `SuffixStyle=${p.suffixStyle}`,
    ...p.keep.map((g) => `Keep=${g}`),
    `ConfigMerge=${p.configMerge}`,
    ...p.merge.map((m) => `Merge=${m.glob}:${m.driver}`),
    `MergeMaxSize=${size(p.mergeMaxSize)}`,
    '[Backups]',
    `Keep=${config.backups.keep}`,
  ].join('\n');
}
