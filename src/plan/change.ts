// Whether the base changed under an upper entry between two generations (B0: the recorded manifest,
// B1: the current base), as the decision table sees it: the predicates the rules decide by, shared with
// `diff` so that what it reports is what a reconcile acts on. Type and content; mode and owner only for
// merged dirs (rule 8); for an opaque dir, its subtree's types and contents (rule 7).
import { sameAttrs, sameContent, type BaseEntry, type BaseView, type RelPath, type UpperKind } from '../model/entry.js';

export type BaseChange = 'unchanged' | 'changed' | 'added' | 'removed' | 'absent';

export function entryChange(b0: BaseEntry | undefined, b1: BaseEntry | undefined, attrs = false): BaseChange {
  if (b0 === undefined) return b1 === undefined ? 'absent' : 'added';
  if (b1 === undefined) return 'removed';
  return sameContent(b0, b1) && (!attrs || sameAttrs(b0, b1)) ? 'unchanged' : 'changed';
}

/** Rule 7: does anything below dir differ (type, content, presence) between the two generations? */
export function subtreeUnchanged(b0: BaseView, b1: BaseView, dir: RelPath): boolean {
  const seen = new Set<RelPath>();
  for (const e of b0.under(dir)) {
    const other = b1.get(e.path);
    if (!other || !sameContent(e, other)) return false;
    seen.add(e.path);
  }
  for (const e of b1.under(dir)) if (!seen.has(e.path)) return false;
  return true;
}

/** The change of an opaque dir: of its own type, then of everything below it (it hides the whole subtree), as rule 7 decides. */
export function subtreeChange(b0: BaseView, b1: BaseView, dir: RelPath): BaseChange {
  const self = entryChange(b0.get(dir), b1.get(dir));
  if (self !== 'unchanged') return self;
  return subtreeUnchanged(b0, b1, dir) ? 'unchanged' : 'changed';
}

/** The change under one upper entry of the given kind. */
export function changeUnder(kind: UpperKind, path: RelPath, b0: BaseView, b1: BaseView): BaseChange {
  if (kind === 'opaque-dir') return subtreeChange(b0, b1, path);
  return entryChange(b0.get(path), b1.get(path), kind === 'merged-dir');
}
