// The `dpkg-status` merge driver for /var/lib/dpkg/status: stanza by stanza, keyed by Package and
// Architecture. A package the host installed, removed or changed relative to the old base is applied on top
// of the new base, unless the new base changed that package too: then the base's stanza wins (the rule,
// not a conflict; the packages it decided are reported), and so do its instances of a package where the
// host's would make a set dpkg refuses. Stanzas keep their bytes; the file is in dpkg's order.
import { inDpkgOrder, parseStatus, renderStatus, type Stanza, type StatusDb } from './dpkg-db.js';
import { decide } from './keyed.js';
import type { MergeDriver } from './types.js';

export type StatusMerge =
  | {
      readonly kind: 'merged';
      readonly content: Buffer;
      /** The merged database, as `content` parses. */
      readonly db: StatusDb;
      /** The three databases merged, as parsed. */
      readonly inputs: { readonly b0: StatusDb; readonly b1: StatusDb; readonly upper: StatusDb };
      /** The keys whose host change lost to the new base: its change of the same key, or its instances of a package dpkg would not hold beside the host's. */
      readonly baseWon: readonly string[];
      /** Why, a sentence per key of `baseWon`. */
      readonly notes: readonly string[];
    }
  | { readonly kind: 'conflict'; readonly conflicts: readonly string[] };

const texts = (db: StatusDb) => new Map([...db].map(([k, s]) => [k, s.text]));

/**
 * The packages whose merged instances dpkg would refuse to read (several, not all Multi-Arch: same, as when
 * the host cross-graded a package the new base upgraded) take the new base's instances whole.
 */
function coinstallable(kept: readonly Stanza[], b: StatusDb): { stanzas: Stanza[]; displaced: Stanza[] } {
  const byName = new Map<string, Stanza[]>();
  for (const s of kept) byName.set(s.package, [...(byName.get(s.package) ?? []), s]);
  const refused = new Set([...byName].filter(([, ss]) => ss.length > 1 && !ss.every((s) => s.multiArchSame)).map(([name]) => name));
  const stanzas = [...kept.filter((s) => !refused.has(s.package)), ...[...b.values()].filter((s) => refused.has(s.package))];
  return { stanzas, displaced: kept.filter((s) => refused.has(s.package) && b.get(s.key)?.text !== s.text) };
}

/** The three status files merged; conflicts only for a file that does not parse. */
export function mergeStatus(b0: Buffer, b1: Buffer, upper: Buffer): StatusMerge {
  const parsed = [parseStatus(b0, 'the old base'), parseStatus(b1, 'the new base'), parseStatus(upper, "the host's copy")];
  const problems = parsed.flatMap((p) => (p.kind === 'malformed' ? p.problems : []));
  if (problems.length > 0) return { kind: 'conflict', conflicts: problems };
  const [o, b, u] = parsed.map((p) => (p.kind === 'parsed' ? p.db : new Map())) as [StatusDb, StatusDb, StatusDb];
  const kept: Stanza[] = [];
  const baseWon: string[] = [];
  const notes: string[] = [];
  for (const d of decide(texts(o), texts(b), texts(u))) {
    if (d.clash) {
      baseWon.push(d.key);
      notes.push(`${d.key}: changed by the host and by the new base; the new base's stanza wins`);
    }
    if (d.text !== undefined) kept.push((d.from === 'host' ? u : b).get(d.key)!);
  }
  const { stanzas, displaced } = coinstallable(kept, b);
  for (const s of displaced) {
    baseWon.push(s.key);
    notes.push(`${s.key}: dpkg reads no instance of ${s.package} beside the new base's that is not Multi-Arch: same; the new base's instances win`);
  }
  const sorted = inDpkgOrder(stanzas);
  return { kind: 'merged', content: renderStatus(sorted), db: new Map(sorted.map((s) => [s.key, s])), inputs: { b0: o, b1: b, upper: u }, baseWon, notes };
}

export const dpkgStatusMerge: MergeDriver = (b0, b1, upper) => {
  const r = mergeStatus(b0, b1, upper);
  return r.kind === 'conflict' ? r : { kind: 'merged', content: r.content, notes: r.notes };
};
