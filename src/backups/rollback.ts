// The backup set a rollback undoes: that of the newest reconcile from the generation booted now to the one
// recorded, with the entries its tree still holds and what that reconcile wrote in the upper.
import { StateOverlayError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import type { RollbackSource } from '../plan/types.js';
import { lstatBeneath } from '../tree/handles.js';
import type { BackupIndex } from './index-file.js';
import { indexIfAny, setNames, setTree } from './sets.js';

/** A set's index, or null when it has none or a damaged one (`backups` names that; it undoes nothing). */
function readableIndex(layout: Layout, name: string): BackupIndex | null {
  try {
    return indexIfAny(layout, name);
  } catch (err) {
    if (err instanceof StateOverlayError && err.code === 'corrupt') return null;
    throw err;
  }
}

/** The set of the reconcile current → recorded, or null when there is none (not a rollback). */
export function rollbackSource(layout: Layout, recorded: string, current: string): RollbackSource | null {
  for (const name of setNames(layout).reverse()) {
    const index = readableIndex(layout, name);
    if (index?.origin !== 'reconcile' || index.from !== current || index.to !== recorded) continue;
    const tree = setTree(layout, name);
    return {
      set: name,
      entries: index.entries.filter((e) => lstatBeneath(tree, e.path) !== undefined).map((e) => e.path),
      wrote: (index.wrote ?? []).map(({ path, kind, from }) => ({ path, kind, from })),
    };
  }
  return null;
}
