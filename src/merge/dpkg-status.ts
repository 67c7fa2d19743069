// The `dpkg-status` merge driver for /var/lib/dpkg/status: stanza by stanza, keyed by Package and
// Architecture. A package the host installed, removed or changed relative to the old base is applied on top
// of the new base, unless the new base changed that package too: then the base's stanza wins (the rule,
// not a conflict; the packages it decided are reported). Stanzas keep their bytes; the file is in dpkg's order.
import { inDpkgOrder, parseStatus, renderStatus, type Stanza, type StatusDb } from './dpkg-db.js';
import { decide } from './keyed.js';
import type { MergeDriver } from './types.js';

export type StatusMerge =
  | {
      readonly kind: 'merged';
      readonly content: Buffer;
      /** The merged database, as `content` parses. */
      readonly db: StatusDb;
      /** The keys whose host change lost to the new base's change of the same package. */
      readonly baseWon: readonly string[];
    }
  | { readonly kind: 'conflict'; readonly conflicts: readonly string[] };

const texts = (db: StatusDb) => new Map([...db].map(([k, s]) => [k, s.text]));

/** The three status files merged; conflicts only for a file that does not parse. */
export function mergeStatus(b0: Buffer, b1: Buffer, upper: Buffer): StatusMerge {
  const parsed = [parseStatus(b0, 'the old base'), parseStatus(b1, 'the new base'), parseStatus(upper, "the host's copy")];
  const problems = parsed.flatMap((p) => (p.kind === 'malformed' ? p.problems : []));
  if (problems.length > 0) return { kind: 'conflict', conflicts: problems };
  const [o, b, u] = parsed.map((p) => (p.kind === 'parsed' ? p.db : new Map())) as [StatusDb, StatusDb, StatusDb];
  const kept: Stanza[] = [];
  const baseWon: string[] = [];
  for (const d of decide(texts(o), texts(b), texts(u))) {
    if (d.clash) baseWon.push(d.key);
    if (d.text !== undefined) kept.push((d.from === 'host' ? u : b).get(d.key)!);
  }
  const sorted = inDpkgOrder(kept);
  return { kind: 'merged', content: renderStatus(sorted), db: new Map(sorted.map((s) => [s.key, s])), baseWon };
}

export const dpkgStatusMerge: MergeDriver = (b0, b1, upper) => {
  const r = mergeStatus(b0, b1, upper);
  if (r.kind === 'conflict') return r;
  return { kind: 'merged', content: r.content, notes: r.baseWon.map((k) => `${k}: changed by the host and by the new base; the new base's stanza wins`) };
};
