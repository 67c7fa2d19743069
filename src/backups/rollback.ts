// The backup set a rollback undoes: that of the newest reconcile from the generation booted now to the one
// recorded, with the entries its tree still holds and what that reconcile wrote in the upper.
import type { Layout } from '../paths/layout.js';
import type { RollbackSource } from '../plan/types.js';
import { lstatBeneath } from '../tree/handles.js';
import { listSets, setTree } from './sets.js';

/** The set of the reconcile current → recorded, or null when there is none (not a rollback). */
export function rollbackSource(layout: Layout, recorded: string, current: string): RollbackSource | null {
  const set = listSets(layout)
    .filter((s) => s.index?.origin === 'reconcile' && s.index.from === current && s.index.to === recorded)
    .at(-1);
  if (!set?.index) return null;
  const tree = setTree(layout, set.name);
  return {
    set: set.name,
    entries: set.index.entries.filter((e) => lstatBeneath(tree, e.path) !== undefined).map((e) => e.path),
    wrote: (set.index.wrote ?? []).map(({ path, kind, from }) => ({ path, kind, from })),
  };
}
