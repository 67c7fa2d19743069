// Diffs for people (one line per upper entry) and for machines (JSON).
import { displayPath } from '../../model/entry.js';
import type { UpperDiff } from '../../ops/diff.js';
import { document, pathFields } from './json.js';

export function diffJson(d: UpperDiff) {
  return document('Diff', {
    name: d.name,
    generation: { recorded: d.recorded, current: d.current.generation, source: d.current.source, manifest: d.manifest },
    entries: d.rows.map(({ entry: e, base }) => ({
      ...pathFields('path', e.path),
      kind: e.kind,
      type: e.type,
      ...(base === undefined ? {} : { base }),
      ...(e.whiteout ? { whiteout: e.whiteout } : {}),
      ...(e.foreign ? { foreign: e.foreign } : {}),
    })),
    unreadable: d.unreadable.map((u) => ({ ...pathFields('path', u.path), error: u.error })),
  });
}

/** One line per entry: kind, base change ('-' where it does not apply, '?' without a manifest), path. */
export function diffText(d: UpperDiff): string {
  const known = d.manifest !== null;
  const lines = [
    `# ${d.name}: recorded ${d.recorded ?? 'none'}, current ${d.current.generation}${known ? '' : ', no manifest of the recorded generation'}`,
  ];
  for (const { entry: e, base } of d.rows) {
    const b = base ?? (known ? '-' : '?');
    lines.push(`${e.kind.padEnd(10)} ${b.padEnd(9)} ${displayPath(e.path)}`);
  }
  for (const u of d.unreadable) lines.push(`unreadable ${u.error.padEnd(9)} ${displayPath(u.path)}`);
  return lines.join('\n');
}
