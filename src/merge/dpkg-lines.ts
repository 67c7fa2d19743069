// The merge drivers of dpkg's two line databases: /var/lib/dpkg/diversions (records of three lines: the
// diverted file, where it is diverted to, the package or ':' for a local diversion; keyed by the first) and
// /var/lib/dpkg/statoverride (`owner group mode path`, keyed by the path, which may hold spaces). The host's
// changes are applied over the new base's; a key both changed differently is a conflict naming it.
import { change, decide, type Records } from './keyed.js';
import type { MergeDriver } from './types.js';

type Parsed = { readonly kind: 'parsed'; readonly records: Records } | { readonly kind: 'malformed'; readonly problem: string };

interface Format {
  readonly file: string;
  /** Lines per record. */
  readonly lines: number;
  /** The record's key, or undefined when the record is malformed. */
  readonly key: (record: readonly string[]) => string | undefined;
}

const FORMATS = {
  diversions: { file: 'diversions', lines: 3, key: (r) => r[0] },
  // dpkg reads owner, group and mode up to a space each; the path is the rest of the line.
  statoverride: { file: 'statoverride', lines: 1, key: (r) => /^\S+ \S+ [0-7]+ (.+)$/.exec(r[0]!)?.[1] },
} as const satisfies Record<string, Format>;

function parse(b: Buffer, f: Format, source: string): Parsed {
  const text = b.toString('latin1');
  if (text !== '' && !text.endsWith('\n')) return { kind: 'malformed', problem: `${f.file}: ${source} does not end with a newline` };
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  if (lines.length % f.lines !== 0) return { kind: 'malformed', problem: `${f.file}: ${source} has ${lines.length} lines, not records of ${f.lines}` };
  const records = new Map<string, string>();
  for (let i = 0; i < lines.length; i += f.lines) {
    const record = lines.slice(i, i + f.lines);
    const key = record.some((l) => l === '' || l.includes('\r')) ? undefined : f.key(record);
    if (key === undefined) return { kind: 'malformed', problem: `${f.file}: ${source} line ${i + 1} ${JSON.stringify(record[0])} does not start a record` };
    if (records.has(key)) return { kind: 'malformed', problem: `${f.file}: ${source} holds ${key} twice (the second at line ${i + 1})` };
    records.set(key, record.map((l) => `${l}\n`).join(''));
  }
  return { kind: 'parsed', records };
}

function lineDriver(f: Format): MergeDriver {
  return (b0, b1, upper) => {
    const parsed = [parse(b0, f, 'the old base'), parse(b1, f, 'the new base'), parse(upper, f, "the host's copy")];
    const bad = parsed.flatMap((p) => (p.kind === 'malformed' ? [p.problem] : []));
    if (bad.length > 0) return { kind: 'conflict', conflicts: bad };
    const [o, b, u] = parsed.map((p) => (p.kind === 'parsed' ? p.records : new Map<string, string>())) as [Records, Records, Records];
    const decisions = decide(o, b, u);
    const conflicts = decisions.filter((d) => d.clash).map(({ key }) => {
      const [host, base] = [change(o.get(key), u.get(key)), change(o.get(key), b.get(key))];
      return `${f.file}: ${key} was ${host} by the host and ${base} by the new base${host === base ? ', differently' : ''}`;
    });
    if (conflicts.length > 0) return { kind: 'conflict', conflicts };
    return { kind: 'merged', content: Buffer.from(decisions.map((d) => d.text ?? '').join(''), 'latin1') };
  };
}

export const diversionsMerge: MergeDriver = lineDriver(FORMATS.diversions);
export const statoverrideMerge: MergeDriver = lineDriver(FORMATS.statoverride);
