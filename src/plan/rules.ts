// The decision table (DESIGN section 4) for one upper entry in Reconcile=changed mode: pure, no I/O.
import type { ConfigPolicy, SuffixStyle, UnknownBase } from '../config/schema.js';
import { identical, sameAttrs, sameContent, type BaseEntry, type UpperEntry } from '../model/entry.js';
import type { MergeView, Rule } from './types.js';

export interface Situation {
  readonly u: UpperEntry;
  /** The recorded generation's entry; undefined when absent there. */
  readonly b0: BaseEntry | undefined;
  readonly b1: BaseEntry | undefined;
  /** False when there is no manifest for the recorded generation (rule 10). */
  readonly known: boolean;
  readonly cls: 'config' | 'default';
  readonly policy: ConfigPolicy;
  /** rpm %config(missingok): a deleted config file stays deleted. */
  readonly missingok: boolean;
  readonly style: SuffixStyle;
  readonly unknownBase: UnknownBase;
  /** The three-way merge tried for this file (ConfigMerge=three-way, Merge=), if any. */
  readonly merge?: MergeView | undefined;
  /** Rule 7: true when no entry below the path differs between B0 and B1. */
  readonly subtreeUnchanged: () => boolean;
}

/** notMerged: why the merge tried for the file did not replace this decision (its conflicts, or why it could not run). */
export type Decision =
  /** Pure state (no base entry at the path either side): nothing to decide, nothing to log. */
  | { readonly do: 'state' }
  | { readonly do: 'drop'; readonly rule: Rule; readonly reason: string; readonly warn?: boolean; readonly notMerged?: string }
  | { readonly do: 'keep'; readonly rule: Rule; readonly reason: string; readonly sidecar?: boolean; readonly notMerged?: string }
  /** Move the entry to its saved name (`.rpmsave`/`.dpkg-old`; as 'orig': `.rpmorig`/`.dpkg-old`) so the new base shows. */
  | { readonly do: 'save'; readonly rule: Rule; readonly reason: string; readonly as?: 'orig'; readonly notMerged?: string }
  /** Replace the host's file by the clean three-way merge of it with the base's change. */
  /** notes: what the driver's own rules decided against the host's change (the new base's package won). */
  | { readonly do: 'merge'; readonly rule: Rule; readonly reason: string; readonly driver: string; readonly digest: string; readonly host: string; readonly notes?: readonly string[] }
  | { readonly do: 'conflict'; readonly rule: Rule; readonly reason: string }
  /**
   * A directory whose children are decided one by one. attrs: give it B1's mode/owner (rule 8, or 6 when
   * the base newly ships it). emptyRule: the rule under which it goes if it ends empty (and, for 8,
   * identical to B1).
   */
  | { readonly do: 'recurse'; readonly attrs?: { readonly rule: Rule; readonly reason: string }; readonly emptyRule?: 5 | 8 };

const isDir = (e: { type: string } | undefined): boolean => e?.type === 'dir';
const STATE: Decision = Object.freeze({ do: 'state' });
/** A decision a clean merge may replace. */
type Fallback = Extract<Decision, { do: 'drop' | 'keep' | 'save' }>;
const drop = (rule: Rule, reason: string, warn = false): Extract<Decision, { do: 'drop' }> => (warn ? { do: 'drop', rule, reason, warn } : { do: 'drop', rule, reason });
const keep = (rule: Rule, reason: string, sidecar = false): Extract<Decision, { do: 'keep' }> => (sidecar ? { do: 'keep', rule, reason, sidecar } : { do: 'keep', rule, reason });

/**
 * A file the host changed and the base changed too, under a merge driver: the clean merge replaces the
 * table's decision; a conflict (or a merge that could not run) leaves that decision, saying why.
 */
function mergedOr(s: Situation, rule: Rule, fallback: Fallback): Decision {
  const m = s.merge;
  if (m === undefined || s.u.type !== 'file' || s.u.kind === 'whiteout') return fallback;
  const what = s.cls === 'config' ? 'config file' : 'file';
  const change = rule === 6 ? 'the new base now ships this path too' : 'the base changed it';
  if (m.kind === 'merged' && m.digest === m.host) return keep(rule, `modified ${what}, ${change}: the change is in the host's copy already (${m.driver} merge)`);
  if (m.kind === 'merged') return { do: 'merge', rule, reason: `modified ${what}, ${change}: merged (${m.driver})`, driver: m.driver, digest: m.digest, host: m.host, ...(m.notes ? { notes: m.notes } : {}) };
  return { ...fallback, notMerged: `not merged (${m.driver}): ${m.kind === 'conflict' ? m.conflicts.join('; ') : m.why}` };
}

/** Row 3 (and rule 10's pruning, and shadows over a type change): the base changed what U shadows. */
function changedShadow(s: Situation, rule: Rule): Decision {
  if (s.cls === 'default') {
    const d = drop(rule, rule === 10 ? 'shadows the base and the recorded base is unknown' : 'the base changed this path');
    return rule === 3 && !(s.b0 && sameContent(s.u, s.b0)) ? mergedOr(s, rule, d) : d;
  }
  if (s.b0 && sameContent(s.u, s.b0)) return drop(rule, 'unmodified config file the base changed');
  const d: Fallback = s.policy === 'noreplace'
    ? keep(rule, 'modified config file the base changed: new base content written beside it', true)
    : { do: 'save', rule, reason: 'modified config file the base changed (replace): moved aside, new base shows' };
  return rule === 3 ? mergedOr(s, rule, d) : d;
}

/** Row 4: the user deleted a path whose base content changed. */
function changedWhiteout(s: Situation): Decision {
  if (s.cls === 'default') return drop(4, 'deleted locally, changed in the base: it comes back');
  if (s.missingok) return keep(4, 'deleted config file (missingok) changed in the base: stays deleted');
  if (s.style === 'rpm') return drop(4, 'deleted config file changed in the base: rpm recreates it');
  if (s.policy === 'noreplace') return keep(4, 'deleted config file changed in the base: stays deleted (dpkg), new content beside it', true);
  return drop(4, 'deleted config file changed in the base (replace): it comes back');
}

/** Row 6: the new base ships a path the host had as state. */
function newInBase(s: Situation): Decision {
  if (s.cls === 'config' && s.u.kind !== 'whiteout') {
    if (s.policy === 'replace' && s.u.type !== 'dir') return mergedOr(s, 6, { do: 'save', rule: 6, reason: 'the new base now ships this config path (replace): local entry moved aside, new base shows', as: 'orig' });
    return mergedOr(s, 6, keep(6, 'the new base now ships this config path: local entry kept, base content beside it', true));
  }
  return mergedOr(s, 6, drop(6, 'the new base now ships this path: base wins', true));
}

const flipped = (b0: BaseEntry, b1: BaseEntry): string => `the base turned this ${b0.type} into a ${b1.type} under upper content`;

function rule10(s: Situation): Decision {
  const { u, b1 } = s;
  if (s.unknownBase === 'keep' || !b1) return STATE;
  if (u.type === 'dir' && u.kind !== 'opaque-dir' && isDir(b1)) return { do: 'recurse', emptyRule: 8 };
  if (u.kind === 'whiteout' || u.kind === 'opaque-dir') return keep(10, 'recorded base unknown: only shadows are pruned');
  return changedShadow(s, 10);
}

function mergedDir(s: Situation): Decision {
  const { u, b0, b1 } = s;
  if (!b0 && !b1) return STATE;
  if (b1 && isDir(b1)) {
    if (b0 && !isDir(b0)) return drop(9, flipped(b0, b1), true);
    if (b0 && !sameAttrs(b0, b1) && !sameAttrs(u, b1)) {
      return { do: 'recurse', attrs: { rule: 8, reason: 'the base changed the directory mode or owner' }, emptyRule: 8 };
    }
    if (!b0 && s.cls === 'default' && !sameAttrs(u, b1)) {
      return { do: 'recurse', attrs: { rule: 6, reason: 'the new base now ships this directory: base mode and owner win' }, emptyRule: 8 };
    }
    return { do: 'recurse', emptyRule: 8 };
  }
  if (!b1) {
    if (b0 && isDir(b0)) return { do: 'recurse', emptyRule: 5 };
    return keep(5, 'the new base removed this path; the upper directory is not a copy of it: state now');
  }
  if (!b0) return newInBase(s);
  if (isDir(b0)) return drop(9, flipped(b0, b1), true);
  return sameContent(b0, b1) ? keep(2, 'base unchanged here') : changedShadow(s, 3);
}

function opaqueDir(s: Situation): Decision {
  const { b0, b1 } = s;
  if (!b1) return b0 ? keep(7, 'opaque directory over a path the new base removed: plain state now') : STATE;
  if (isDir(b1)) {
    if (!b0) return drop(7, 'opaque directory hides a directory the new base now ships');
    if (!isDir(b0)) return drop(9, flipped(b0, b1), true);
    return s.subtreeUnchanged()
      ? keep(7, 'opaque directory: nothing below it changed in the base')
      : drop(7, 'opaque directory: the base changed below it');
  }
  if (!b0) return newInBase(s);
  if (isDir(b0)) return drop(9, flipped(b0, b1), true);
  return sameContent(b0, b1) ? keep(2, 'base unchanged here') : changedShadow(s, 3);
}

function whiteout(s: Situation): Decision {
  const { b0, b1 } = s;
  if (!b1) return b0 ? drop(5, 'whiteout of a path the new base removed: redundant') : STATE;
  if (!b0) return newInBase(s);
  if (isDir(b0) !== isDir(b1)) return drop(9, flipped(b0, b1), true);
  return sameContent(b0, b1) ? keep(2, 'base unchanged here: the deletion stays') : changedWhiteout(s);
}

function nonDir(s: Situation): Decision {
  const { u, b0, b1 } = s;
  if (!b1) {
    if (!b0) return STATE;
    if (u.type !== b0.type) return keep(5, 'the new base removed this path; the upper entry is not a copy of it: state now');
    if (s.cls === 'default') return drop(5, 'the new base removed this path');
    if (sameContent(u, b0)) return drop(5, 'unmodified config file the new base removed');
    return s.style === 'rpm'
      ? { do: 'save', rule: 5, reason: 'modified config file the new base removed: moved aside (rpm)' }
      : keep(5, 'modified config file the new base removed: kept in place (dpkg)');
  }
  if (!b0) return newInBase(s);
  if (isDir(b0) !== isDir(b1)) return drop(9, flipped(b0, b1), true);
  return sameContent(b0, b1) ? keep(2, 'base unchanged here') : changedShadow(s, 3);
}

/** The decision for one upper entry. */
export function decide(s: Situation): Decision {
  const { u, b1 } = s;
  if (u.kind === 'foreign') {
    return { do: 'conflict', rule: s.known ? 2 : 10, reason: `foreign overlay entry (${u.foreign ?? 'unknown'}): our mounts never create one; left untouched` };
  }
  if (b1 && u.type !== 'dir' && u.kind !== 'whiteout' && identical(u, b1)) {
    return drop(1, 'identical to the base (redundant copy-up)');
  }
  if (!s.known) return rule10(s);
  if (u.kind === 'opaque-dir') return opaqueDir(s);
  if (u.type === 'dir') return mergedDir(s);
  if (u.kind === 'whiteout') return whiteout(s);
  return nonDir(s);
}

/** Reconcile=all, exactly as `ostree admin state-overlay` prunes: anything over a base entry goes, except a plain directory over a base directory, which is recursed into. */
export function decideAll(u: UpperEntry, b1: BaseEntry | undefined): Decision {
  if (u.kind === 'foreign') return { do: 'conflict', rule: 3, reason: `foreign overlay entry (${u.foreign ?? 'unknown'}): our mounts never create one; left untouched` };
  if (!b1) return STATE;
  if (u.type === 'dir' && u.kind !== 'opaque-dir' && isDir(b1)) return { do: 'recurse' };
  if (u.kind === 'whiteout') return drop(4, 'Reconcile=all: every whiteout goes on a generation change');
  if (u.kind === 'opaque-dir' && isDir(b1)) return drop(7, 'Reconcile=all: every opaque directory goes on a generation change');
  if (u.type !== 'dir' && identical(u, b1)) return drop(1, 'identical to the base (redundant copy-up)');
  return drop(3, 'Reconcile=all: every shadow goes on a generation change');
}
