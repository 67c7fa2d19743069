// Metrics in Prometheus' text exposition format, as node_exporter's textfile collector reads them
// (pure): one family per line group, HELP and TYPE first, every overlay a `name` label.
import { UPPER_KINDS } from '../../model/entry.js';
import type { Metrics } from '../../ops/metrics.js';
import type { OverlayStatus, PendingWork } from '../../ops/status-model.js';

const PENDING: readonly PendingWork[] = ['journal', 'reconcile', 'manifest', 'foreign-entries'];
const RESULTS = ['ok', 'interrupted', 'never'] as const;
const COUNTS = ['dropped', 'renamed', 'sidecars', 'merged', 'attrs', 'removedDirs', 'restored', 'kept', 'conflicts'] as const;

type Labels = Readonly<Record<string, string>>;
interface Sample {
  readonly labels: Labels;
  readonly value: number;
}
interface Family {
  readonly name: string;
  readonly help: string;
  readonly samples: readonly Sample[];
}

/** A label value: backslash, double quote and newline escaped (NAMEs hold backslashes: opt-my\x2dapp). */
export function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function sampleLine(name: string, s: Sample): string {
  const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${labelValue(v)}"`);
  return `${name}{${labels.join(',')}} ${Number.isFinite(s.value) ? s.value : 'NaN'}`;
}

function result(o: OverlayStatus): (typeof RESULTS)[number] {
  if (o.pending.includes('journal')) return 'interrupted';
  return o.lastReconcile === null ? 'never' : 'ok';
}

function families(m: Metrics): Family[] {
  const ovs = m.status.overlays;
  const per = (f: (o: OverlayStatus) => number): Sample[] => ovs.map((o) => ({ labels: { name: o.name }, value: f(o) }));
  const reconciled = ovs.filter((o) => o.lastReconcile !== null);
  const last = (f: (r: NonNullable<OverlayStatus['lastReconcile']>) => number) => reconciled.map((o) => ({ labels: { name: o.name }, value: f(o.lastReconcile!) }));
  return [
    {
      name: 'state_overlay_info',
      help: 'One per overlay: its mountpoint, mode and Reconcile= (always 1).',
      samples: ovs.map((o) => ({ labels: { name: o.name, mountpoint: o.mountpoint, mode: o.mode, reconcile: o.reconcile }, value: 1 })),
    },
    { name: 'state_overlay_mounted', help: 'Whether the overlay is mounted on its mountpoint (1) or not (0).', samples: per((o) => (o.mount.state === 'mounted' ? 1 : 0)) },
    {
      name: 'state_overlay_upper_entries',
      help: 'Entries in the upper, by kind.',
      samples: ovs.flatMap((o) => UPPER_KINDS.map((kind) => ({ labels: { name: o.name, kind }, value: o.upper.counts[kind] }))),
    },
    {
      name: 'state_overlay_upper_bytes',
      help: 'Apparent size of the regular files in the upper, by kind.',
      samples: ovs.flatMap((o) => UPPER_KINDS.map((kind) => ({ labels: { name: o.name, kind }, value: o.upper.bytesByKind[kind] }))),
    },
    { name: 'state_overlay_upper_unreadable_entries', help: 'Upper entries that could not be read.', samples: per((o) => o.upper.unreadable) },
    { name: 'state_overlay_backup_sets', help: 'Backup sets kept.', samples: per((o) => o.backups.sets.length) },
    { name: 'state_overlay_backup_sets_keep', help: 'Backups.Keep=: backup sets retained after a reconcile.', samples: per((o) => o.backups.keep) },
    { name: 'state_overlay_backup_bytes', help: 'Apparent size of the regular files in the backup sets.', samples: per((o) => m.backupBytes.get(o.name) ?? 0) },
    { name: 'state_overlay_pending', help: 'Work that waits (1) or not (0): journal, reconcile, manifest, foreign-entries.', samples: ovs.flatMap((o) => PENDING.map((work) => ({ labels: { name: o.name, work }, value: o.pending.includes(work) ? 1 : 0 }))) },
    {
      name: 'state_overlay_last_reconcile_result',
      help: 'The last reconcile: ok, interrupted (a journal waits) or never; 1 for the one that holds.',
      samples: ovs.flatMap((o) => RESULTS.map((r) => ({ labels: { name: o.name, result: r }, value: result(o) === r ? 1 : 0 }))),
    },
    { name: 'state_overlay_last_reconcile_timestamp_seconds', help: 'When the last completed reconcile finished (Unix time).', samples: last((r) => Date.parse(r.at) / 1000) },
    { name: 'state_overlay_last_reconcile_duration_seconds', help: 'How long the last completed reconcile took.', samples: last((r) => r.ms / 1000) },
    {
      name: 'state_overlay_last_reconcile_entries',
      help: 'What the last completed reconcile did, by action: dropped, renamed, sidecars, merged, attrs, removedDirs, restored, kept, conflicts.',
      samples: reconciled.flatMap((o) => COUNTS.map((action) => ({ labels: { name: o.name, action }, value: o.lastReconcile![action] }))),
    },
    {
      name: 'state_overlay_read_failed',
      help: 'An overlay whose configuration or state could not be read (1), with the error code.',
      samples: (m.status.failed ?? []).map((f) => ({ labels: { name: f.name, code: f.code }, value: 1 })),
    },
  ];
}

export function metricsText(m: Metrics): string {
  const out: string[] = [];
  for (const f of families(m)) {
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`, ...f.samples.map((s) => sampleLine(f.name, s)));
  }
  return out.join('\n') + '\n';
}
