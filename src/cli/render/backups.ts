// Backup sets and restores for people (one line per set and per entry, paths under the mountpoint) and for machines (JSON).
import type { BackupSet } from '../../backups/sets.js';
import type { RestoreReport } from '../../ops/restore.js';
import { document, pathFields, pathListFields } from './json.js';
import { ruleColumn } from './plan.js';
import { plural } from './words.js';
import { displayPath } from '../../model/entry.js';

const under = (mountpoint: string, display: string) => `${mountpoint.replace(/\/+$/, '')}/${display}`;

export function backupsJson(name: string, sets: readonly BackupSet[]) {
  return document('BackupSets', {
    name,
    sets: sets.map((s) => ({
      set: s.name,
      origin: s.index?.origin ?? null,
      from: s.index?.from ?? null,
      to: s.index?.to ?? null,
      createdAt: s.index?.createdAt ?? null,
      entries: (s.index?.entries ?? []).map((e) => ({ ...pathFields('path', e.path), kind: e.kind, type: e.type, rule: e.rule, reason: e.reason })),
    })),
  });
}

/**
 * `SET  ORIGIN FROM -> TO  N entries`, then each entry with its rule, kind, path and reason, then what its
 * reconcile wrote in the upper (what a rollback undoes).
 */
export function backupsText(name: string, sets: readonly BackupSet[], mountpoint: string): string {
  if (sets.length === 0) return `${name}: no backup sets`;
  const lines: string[] = [];
  for (const s of sets) {
    const entries = s.index?.entries ?? [];
    const wrote = s.index?.wrote ?? [];
    const written = wrote.length > 0 ? `, ${wrote.length} written` : '';
    lines.push(`${s.name}  ${s.index ? `${s.index.origin} ${s.index.from ?? '(none)'} -> ${s.index.to}` : '(no index)'}  ${plural(entries.length, 'entry', 'entries')}${written}`);
    for (const e of entries) lines.push(`  ${ruleColumn(e.rule)}  ${e.kind.padEnd(10)}  ${under(mountpoint, e.display)}  (${e.reason})`);
    for (const w of wrote) lines.push(`  wrote    ${w.kind.padEnd(10)}  ${under(mountpoint, w.display)}  (${w.kind === 'sidecar' ? 'beside' : 'moved aside from'} ${under(mountpoint, displayPath(w.from))})`);
  }
  return lines.join('\n');
}

export const restoreJson = (name: string, r: RestoreReport) => document('RestoreReport', { name, set: r.set, ...pathListFields('restored', r.restoredPaths), alreadyRestoredAt: r.alreadyRestoredAt });

export function restoreText(name: string, r: RestoreReport, mountpoint: string): string {
  if (r.alreadyRestoredAt !== null) return `${name}: backup set ${r.set} was restored in full at ${r.alreadyRestoredAt}; nothing to do`;
  return [...r.restored.map((p) => `restored ${under(mountpoint, p)}`), `${name}: ${plural(r.restored.length, 'entry', 'entries')} restored from ${r.set}`].join('\n');
}
