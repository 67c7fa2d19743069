// Whether the base changed under an upper entry between two generations (B0: the recorded manifest,
// B1: the current base), as the decision table sees it: type and content; mode and owner for merged dirs.
import type { BaseEntry, BaseView, RelPath, UpperKind } from '../model/entry.js';

export type BaseChange = 'unchanged' | 'changed' | 'added' | 'removed' | 'absent';

export function entryChange(b0: BaseEntry | undefined, b1: BaseEntry | undefined, attrs = false): BaseChange {
  if (b0 === undefined) return b1 === undefined ? 'absent' : 'added';
  if (b1 === undefined) return 'removed';
  const same = b0.type === b1.type && b0.digest === b1.digest && (!attrs || (b0.mode === b1.mode && b0.uid === b1.uid && b0.gid === b1.gid));
  return same ? 'unchanged' : 'changed';
}

/** The change of dir itself and of everything below it (an opaque dir hides the whole subtree). */
export function subtreeChange(b0: BaseView, b1: BaseView, dir: RelPath): BaseChange {
  const self = entryChange(b0.get(dir), b1.get(dir), true);
  if (self !== 'unchanged') return self;
  let n0 = 0;
  for (const e of b0.under(dir)) {
    n0++;
    if (entryChange(e, b1.get(e.path), true) !== 'unchanged') return 'changed';
  }
  let n1 = 0;
  for (const _ of b1.under(dir)) n1++;
  return n0 === n1 ? 'unchanged' : 'changed';
}

/** The change under one upper entry of the given kind. */
export function changeUnder(kind: UpperKind, path: RelPath, b0: BaseView, b1: BaseView): BaseChange {
  if (kind === 'opaque-dir') return subtreeChange(b0, b1, path);
  return entryChange(b0.get(path), b1.get(path), kind === 'merged-dir');
}
