// Plans, and the reconcile, vacuum and reset reports around them, for people (one line per step, with its rule)
// and for machines (JSON, raw paths in base64 too).
import { displayPath, type RelPath } from '../../model/entry.js';
import type { PreviewReport } from '../../ops/preview.js';
import type { ReconcileReport } from '../../ops/reconcile.js';
import type { ResetReport } from '../../ops/reset.js';
import type { VacuumReport } from '../../ops/vacuum.js';
import type { Action, Conflict, Plan } from '../../plan/types.js';
import { document, pathFields } from './json.js';
import { plural } from './words.js';

const VERB: Record<Action['kind'], string> = {
  'move-to-backups': 'drop',
  rename: 'move aside',
  'write-sidecar': 'sidecar',
  merge: 'merge',
  'set-attrs': 'attrs',
  'remove-empty-dir': 'rmdir',
  'restore-from-backups': 'restore',
  keep: 'keep',
};

function target(a: Action): string {
  switch (a.kind) {
    case 'rename': return ` -> ${displayPath(a.to)}`;
    case 'write-sidecar': return ` <- base ${displayPath(a.from)}`;
    case 'set-attrs': return ` mode ${a.mode.toString(8)} owner ${a.uid}:${a.gid}`;
    case 'keep': return a.sidecar === undefined ? '' : ` (+ ${displayPath(a.sidecar)})`;
    default: return '';
  }
}

/** `rule  3`, or `reset  ` for a move no rule decided: one column wide. */
export const ruleColumn = (rule: number | null): string => (rule === null ? 'reset  ' : `rule ${String(rule).padStart(2)}`);

/** A keep that wrote nothing: counted in the summary, listed only with -v (a 10k-entry upper is 10k of them). */
const plainKeep = (a: Action): boolean => a.kind === 'keep' && a.sidecar === undefined;

/**
 * `rule  3  drop        app/bin/tool  (the base changed this path)`, one line per action (plain keeps only
 * when `all`), then conflicts.
 */
export function renderPlan(plan: Plan, mountpoint: string, all: boolean): string[] {
  const abs = (p: RelPath) => `${mountpoint.replace(/\/+$/, '')}/${displayPath(p)}`;
  const lines = (all ? plan.actions : plan.actions.filter((a) => !plainKeep(a))).map((a) => `${ruleColumn(a.rule)}  ${VERB[a.kind].padEnd(10)}  ${abs(a.path)}${target(a)}  (${a.reason})`);
  for (const c of plan.conflicts) lines.push(`warning: ${c.rule === null ? 'reset' : `rule ${c.rule}`}: ${abs(c.path)}: ${c.reason}`);
  return lines;
}

/** JSON-safe actions and conflicts, every path by the one rule of json.ts (`path` and `pathBase64`, `to` and `toBase64`, …). */
export function planJson(plan: Plan): { actions: object[]; conflicts: object[] } {
  const step = (s: Action | Conflict) => ({ ...pathFields('path', s.path), rule: s.rule, reason: s.reason });
  return {
    actions: plan.actions.map((a) => {
      const base = { kind: a.kind, ...step(a) };
      switch (a.kind) {
        case 'rename': return { ...base, ...pathFields('to', a.to) };
        case 'write-sidecar': return { ...base, ...pathFields('from', a.from) };
        case 'merge': return { ...base, driver: a.driver, digest: a.digest };
        case 'set-attrs': return { ...base, mode: a.mode, uid: a.uid, gid: a.gid };
        case 'keep': return a.sidecar === undefined ? base : { ...base, ...pathFields('sidecar', a.sidecar) };
        default: return base;
      }
    }),
    conflicts: plan.conflicts.map(step),
  };
}

/** A report around a plan: its summary, then the plan's steps (`actions` and `conflicts` are the lists here, not the counts). */
function planReport<K extends 'ReconcileReport' | 'VacuumReport' | 'PreviewReport' | 'ResetReport', R extends { readonly plan: Plan; kind?: never; apiVersion?: never }>(kind: K, name: string, r: R) {
  const { plan, ...summary } = r;
  // rollbackSet: the backup set a rollback's restores come from (rule 11), or null; a reset is never one.
  const rollback = kind === 'ResetReport' ? {} : { rollbackSet: plan.rollbackSet ?? null };
  return document(kind, { name, ...summary, ...rollback, ...planJson(plan) });
}

export const reconcileJson = (name: string, r: ReconcileReport) => planReport('ReconcileReport', name, r);

/** The plan's lines between a head (what was reconciled, from and to) and a tail (the counts). */
export function reconcileText(name: string, r: ReconcileReport, mountpoint: string, all: boolean): string {
  const lines = r.resumed ? [`finished an interrupted reconcile of ${name}`] : [];
  if (r.upToDate) return [...lines, `${name}: base generation ${r.to} already reconciled; nothing to do`].join('\n');
  lines.push(`${name}: ${r.dryRun ? 'would reconcile' : 'reconciled'} ${r.from ?? '(none recorded)'} -> ${r.to} (Reconcile=${r.mode})`, ...renderPlan(r.plan, mountpoint, all));
  const backups = r.backupSet && !r.dryRun ? `; backups in ${r.backupSet}` : '';
  const unlisted = all ? 0 : r.plan.actions.filter(plainKeep).length;
  lines.push(
    `${r.dropped} dropped, ${r.renamed} moved aside, ${plural(r.sidecars, 'sidecar')}, ${r.merged > 0 ? `${r.merged} merged, ` : ''}${plural(r.attrs, 'attr')}, ${plural(r.removedDirs, 'empty dir')} removed, ${r.restored > 0 ? `${r.restored} restored (rollback), ` : ''}${r.kept} kept${unlisted > 0 ? ' (-v lists them)' : ''}, ${plural(r.conflicts, 'warning')}${backups}`,
  );
  return lines.join('\n');
}

export const vacuumJson = (name: string, r: VacuumReport) => planReport('VacuumReport', name, r);

export function vacuumText(name: string, r: VacuumReport, mountpoint: string, all: boolean): string {
  const verb = r.dryRun ? 'would drop' : 'dropped';
  return [...renderPlan(r.plan, mountpoint, all), `${name}: ${verb} ${plural(r.dropped, 'redundant copy-up')}, ${plural(r.removedDirs, 'empty dir')}${r.backupSet ? `; backups in ${r.backupSet}` : ''}`].join('\n');
}

export const previewJson = (name: string, r: PreviewReport) => planReport('PreviewReport', name, r);

/** The headline first (what happens to the host's changes), then the plan as `reconcile --dry-run` prints it. */
export function previewText(name: string, r: PreviewReport, mountpoint: string, all: boolean): string {
  const from = r.source.manifest ?? r.source.base ?? '';
  const refused = r.refused === null ? [] : [`warning: the next boot would refuse this base (a boot with --force goes on): ${r.refused}`];
  return [`${name}: next boot with ${from}: ${r.headline}`, ...refused, reconcileText(name, r, mountpoint, all)].join('\n');
}

export const resetJson = (name: string, r: ResetReport) => planReport('ResetReport', name, { ...r, moved: r.plan.actions.length });

/** The moves, then what became of them: the set they went to and the command that brings them back. */
export function resetText(name: string, r: ResetReport, mountpoint: string): string {
  const lines = r.resumed ? [`finished an interrupted transaction of ${name}`] : [];
  lines.push(...renderPlan(r.plan, mountpoint, true));
  const n = plural(r.plan.actions.length, 'entry', 'entries');
  if (r.plan.actions.length === 0) lines.push(`${name}: nothing to reset: the upper holds nothing there`);
  else if (r.dryRun) lines.push(`${name}: would move ${n} to a backup set`);
  else lines.push(`${n} moved to backup set ${r.set}; restore with: state-overlay restore ${name} ${r.set}`);
  if (r.remounted) lines.push(`${name}: mounted again on ${mountpoint}`);
  return lines.join('\n');
}
