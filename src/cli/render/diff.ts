// Diffs for people (one line per upper entry) and for machines (JSON).
import { displayPath } from '../../model/entry.js';
import type { UpperDiff } from '../../ops/diff.js';
import type { PathClass } from '../../plan/classes.js';
import type { MergeView } from '../../plan/types.js';
import { document, pathFields } from './json.js';

export function diffJson(d: UpperDiff) {
  return document('Diff', {
    name: d.name,
    generation: { recorded: d.recorded, current: d.current.generation, source: d.current.source, manifest: d.manifest },
    entries: d.rows.map(({ entry: e, base, cls, merge }) => ({
      ...pathFields('path', e.path),
      kind: e.kind,
      type: e.type,
      ...(base === undefined ? {} : { base }),
      class: className(cls),
      ...(cls.keep ?? cls.from ? { classFrom: cls.keep ?? cls.from } : {}),
      ...(e.whiteout ? { whiteout: e.whiteout } : {}),
      ...(e.foreign ? { foreign: e.foreign } : {}),
      ...(merge ? { merge: mergeJson(merge) } : {}),
    })),
    unreadable: d.unreadable.map((u) => ({ ...pathFields('path', u.path), error: u.error })),
  });
}

/** A merge a reconcile would try: its driver, `clean` or `conflict`, and why it conflicts or cannot run. */
const mergeJson = (m: MergeView) => ({ driver: m.driver, outcome: outcome(m), ...(m.kind === 'merged' ? {} : { reasons: m.kind === 'conflict' ? m.conflicts : [m.why] }) });
const outcome = (m: MergeView): 'clean' | 'conflict' | 'unavailable' => (m.kind === 'merged' ? 'clean' : m.kind);

/** default, keep, config (noreplace policy) or config-replace; missingok marked. */
export function className(c: PathClass): string {
  if (c.keep !== undefined) return 'keep';
  if (c.cls === 'default') return 'default';
  return `config${c.policy === 'replace' ? '-replace' : ''}${c.missingok ? '-missingok' : ''}`;
}

/** One line per entry: kind, base change ('-' where it does not apply, '?' without a manifest), path, and a class other than default. */
export function diffText(d: UpperDiff): string {
  const known = d.manifest !== null;
  const lines = [
    `# ${d.name}: recorded ${d.recorded ?? 'none'}, current ${d.current.generation}${known ? '' : ', no manifest of the recorded generation'}`,
  ];
  for (const { entry: e, base, cls, merge } of d.rows) {
    const b = base ?? (known ? '-' : '?');
    // The default class goes without saying; any other is named with where it came from.
    const c = className(cls);
    const tail = c === 'default' ? '' : `  [${c}: ${cls.keep ?? cls.from ?? ''}]`;
    const m = merge === undefined ? '' : `  [merge: ${merge.driver}, ${outcome(merge)}${merge.kind === 'merged' ? '' : `: ${(merge.kind === 'conflict' ? merge.conflicts : [merge.why]).join('; ')}`}]`;
    lines.push(`${e.kind.padEnd(10)} ${b.padEnd(9)} ${displayPath(e.path)}${tail}${m}`);
  }
  for (const u of d.unreadable) lines.push(`unreadable ${u.error.padEnd(9)} ${displayPath(u.path)}`);
  return lines.join('\n');
}
