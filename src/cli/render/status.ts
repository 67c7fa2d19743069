// A Status for people (pure: one block per overlay, aligned labels, sizes in binary units) and for machines (JSON).
import type { OverlayStatus, PendingWork, Status } from '../../ops/status-model.js';
import { API_VERSION, document } from './json.js';
import { formatBytes, plural } from './words.js';

const PENDING: Record<PendingWork, string> = {
  journal: 'an interrupted reconcile: the next run finishes it',
  reconcile: 'the base changed: the next start or reload reconciles',
  manifest: 'no manifest of the recorded generation: the next reconcile applies UnknownBase=',
  'foreign-entries': 'redirect/metacopy entries in the upper (not made by state-overlay)',
  classes: 'the recorded manifest has no package classes: config files of the recorded base from globs only (re-ship the manifest with index --ship)',
};


const short = (g: string | null): string => (g === null ? 'none' : g.length > 24 ? `${g.slice(0, 24)}…` : g);

function generationLine(s: OverlayStatus): string {
  const g = s.generation;
  // A stat walk can say "changed" when nothing did, never the reverse; a shipped manifest is exact.
  const source = g.source === 'tree' ? 'tree: a stat walk of the base; a shipped manifest is exact' : g.source;
  const current = g.current === null ? `unknown (${g.error ?? 'no source'})` : `${short(g.current)} (${source})`;
  const changed = s.reconcile === 'none' ? ', changed (Reconcile=none: the upper is never reconciled)' : ', changed';
  const verdict = g.current === null ? '' : g.recorded === g.current ? ', up to date' : g.recorded === null ? ', never reconciled' : changed;
  return `recorded ${short(g.recorded)}, current ${current}${verdict}`;
}

function reconcileLine(s: OverlayStatus): string {
  const r = s.lastReconcile;
  if (r === null) return 'never';
  const parts = [`${r.dropped} dropped`, `${r.kept} kept`, plural(r.sidecars, 'sidecar'), plural(r.conflicts, 'conflict')];
  return `${r.at} ${short(r.from)} → ${short(r.to)} (${r.mode}): ${parts.join(', ')}${r.backupSet ? `, backup ${r.backupSet}` : ''}`;
}

export function renderOverlay(s: OverlayStatus): string {
  const c = s.upper.counts;
  const where = s.mount.state === 'mounted' ? `mounted on ${s.target}` : s.mount.state === 'foreign' ? `NOT ours: another overlay is on ${s.target}` : `not mounted (${s.target})`;
  const rows: [string, string][] = [
    ['base', `${s.base}${s.mount.baseBind ? ' (private bind mounted)' : ''}${s.mount.submounts.length > 0 ? `; mounted below it, not part of it: ${s.mount.submounts.join(', ')}` : ''}`],
    ['upper', s.upper.exists ? s.mount.upperdir : `${s.mount.upperdir} (absent)`],
    ...(s.mount.detached === null
      ? []
      : ([['detached', `detached from ${s.mount.detached.mountpoint} but still in use, writes still reach the upper: held by ${s.mount.detached.holders.map((h) => `pid ${h.pid} (${h.command}): ${h.how.join(', ')}`).join('; ')}; run, reconcile and mount wait until they stop`]] as [string, string][])),
    ['config', s.configFiles.length > 0 ? s.configFiles.join(', ') : 'defaults'],
    ['generation', generationLine(s)],
    ['manifest', s.generation.manifest ?? 'none'],
    [
      'entries',
      `${c.state} state, ${plural(c.shadow, 'shadow')}, ${plural(c['merged-dir'], 'merged dir')}, ${plural(c['opaque-dir'], 'opaque dir')}, ${plural(c.whiteout, 'whiteout')}, ${c.foreign} foreign` +
        (s.upper.unreadable > 0 ? `, ${s.upper.unreadable} unreadable` : ''),
    ],
    ['upper size', formatBytes(s.upper.bytes)],
    ['last reconcile', reconcileLine(s)],
    ['backups', s.backups.sets.length === 0 ? `none (keep ${s.backups.keep})` : `${plural(s.backups.sets.length, 'set')} (keep ${s.backups.keep}): ${s.backups.sets.join(', ')}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length), 'pending'.length) + 1;
  // one line per pending item, aligned under the first
  rows.push(['pending', s.pending.length === 0 ? 'nothing' : s.pending.map((p) => PENDING[p]).join(`\n  ${' '.repeat(width)} `)]);
  return [`${s.name}: ${where} [${s.mode}, reconcile=${s.reconcile}]`, ...rows.map(([k, v]) => `  ${`${k}:`.padEnd(width)} ${v}`)].join('\n');
}

export function renderStatus(status: Status): string {
  const failed = (status.failed ?? []).map((f) => `${f.name}: cannot be read: ${f.error}`);
  if (status.overlays.length === 0 && failed.length === 0) return 'no overlays configured or recorded';
  return [...status.overlays.map(renderOverlay), ...failed].join('\n\n');
}

// The Status model carries its own apiVersion: the envelope's, which this keeps the same.
const _sameVersion: Status['apiVersion'] = API_VERSION;

export const statusJson = (status: Status) => document('Status', { overlays: status.overlays, failed: status.failed ?? [] });
