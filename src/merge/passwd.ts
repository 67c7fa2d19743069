// The `passwd` merge driver for the user databases (passwd, group, shadow, gshadow, subuid, subgid):
// entries keyed by name; what the host added, removed or changed relative to the old base is applied on
// top of the new base, field by field; member lists merge as sets; a host-added and a base-added entry
// with the same name or the same UID/GID is a conflict naming both.
import type { MergeDriver, MergeOutcome } from './types.js';

export const PASSWD_FILES = ['passwd', 'group', 'shadow', 'gshadow', 'subuid', 'subgid'] as const;
export type PasswdFile = (typeof PASSWD_FILES)[number];

interface Flavour {
  /** The field numbers that make an entry's key (subuid/subgid: a user may hold several ranges). */
  readonly key: readonly number[];
  /** The field holding the numeric id a collision is checked on, if any. */
  readonly id?: number;
  /** Comma-separated member lists, merged as sets. */
  readonly sets: readonly number[];
}

const FLAVOURS: Readonly<Record<PasswdFile, Flavour>> = {
  passwd: { key: [0], id: 2, sets: [] },
  group: { key: [0], id: 2, sets: [3] },
  shadow: { key: [0], sets: [] },
  gshadow: { key: [0], sets: [2, 3] },
  subuid: { key: [0, 1], sets: [] },
  subgid: { key: [0, 1], sets: [] },
};

type Table = Map<string, string[]>;

/** Entries by key, in file order; a line without a colon (a comment, a blank line) is keyed by itself. */
function parse(b: Buffer, f: Flavour): Table {
  const t: Table = new Map();
  for (const line of b.toString('latin1').split('\n')) {
    if (line === '') continue;
    const fields = line.split(':');
    t.set(fields.length > 1 ? f.key.map((i) => fields[i] ?? '').join(':') : `#${line}`, fields);
  }
  return t;
}

const members = (v: string | undefined): string[] => (v === undefined || v === '' ? [] : v.split(','));

/** One field merged three ways: null when both sides changed it differently. */
function mergeField(i: number, o: string | undefined, a: string | undefined, b: string | undefined, f: Flavour): string | null {
  if (a === o) return b ?? '';
  if (b === o || a === b) return a ?? '';
  if (!f.sets.includes(i)) return null;
  const [mo, ma, mb] = [members(o), members(a), members(b)];
  const removed = new Set(mo.filter((m) => !ma.includes(m)));
  return [...mb.filter((m) => !removed.has(m)), ...ma.filter((m) => !mo.includes(m) && !mb.includes(m))].join(',');
}

function mergeTables(b0: Table, b1: Table, u: Table, f: Flavour, file: string): MergeOutcome {
  const out = new Map<string, string[]>();
  const conflicts: string[] = [];
  for (const [k, fields] of b1) {
    const o = b0.get(k);
    const a = u.get(k);
    if (o === undefined) {
      // The base added it; a host entry of the same name that the old base did not have either collides.
      if (a !== undefined && a.join(':') !== fields.join(':')) conflicts.push(`${file}: ${k} was added by both the host and the new base, differently`);
      out.set(k, fields);
      continue;
    }
    if (a === undefined) {
      // The host removed it: gone, unless the base changed it meanwhile.
      if (o.join(':') !== fields.join(':')) conflicts.push(`${file}: ${k} was removed by the host and changed by the new base`);
      continue;
    }
    const merged: string[] = [];
    for (let i = 0; i < Math.max(o.length, a.length, fields.length); i++) {
      const m = mergeField(i, o[i], a[i], fields[i], f);
      if (m === null) conflicts.push(`${file}: ${k} field ${i + 1} changed by both: the host's ${JSON.stringify(a[i])}, the new base's ${JSON.stringify(fields[i])}`);
      merged.push(m ?? a[i] ?? '');
    }
    out.set(k, merged);
  }
  const baseAdded = [...b1].filter(([k]) => !b0.has(k));
  for (const [k, fields] of u) {
    const o = b0.get(k);
    if (o !== undefined && !b1.has(k) && o.join(':') !== fields.join(':')) conflicts.push(`${file}: ${k} was changed by the host and removed by the new base`);
    if (o !== undefined || b1.has(k)) continue;
    // Host-added: kept, unless its id is one the new base just gave an entry of its own.
    const clash = f.id === undefined ? undefined : baseAdded.find(([, bf]) => bf[f.id!] === fields[f.id!]);
    if (clash) conflicts.push(`${file}: the host's ${k} and the new base's ${clash[0]} have the same id ${fields[f.id!]}`);
    out.set(k, fields);
  }
  if (conflicts.length > 0) return { kind: 'conflict', conflicts };
  const text = [...out.values()].map((fields) => fields.join(':')).join('\n');
  return { kind: 'merged', content: Buffer.from(text === '' ? '' : `${text}\n`, 'latin1') };
}

/** The driver for one of the user databases, by its file name. */
export function passwdDriver(file: PasswdFile): MergeDriver {
  const f = FLAVOURS[file];
  return (b0, b1, upper) => mergeTables(parse(b0, f), parse(b1, f), parse(upper, f), f, file);
}
