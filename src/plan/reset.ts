// The plan of a reset: the upper's entries at the top of each selected subtree go to a backup set, so that
// the base shows there again (whiteouts and opaque dirs with them). The directories above a selected
// entry stay. No rule of the table decides it: the operator asked for it.
import picomatch from 'picomatch';
import { isUnder, parentOf, type RelPath, type UpperEntry } from '../model/entry.js';
import type { MoveToBackups, Plan } from './types.js';

/** A PATH argument of `reset`: one upper path, or a glob over the upper's paths (both relative, raw bytes). */
export type Selector = { readonly arg: string; readonly path: RelPath } | { readonly arg: string; readonly glob: string };

/** Whether an argument is a glob (picomatch's reading), not a literal path. */
export const isGlob = (arg: string): boolean => picomatch.scan(arg).isGlob;

export interface ResetPlan {
  readonly plan: Plan;
  /** The arguments that select no upper entry. */
  readonly unmatched: readonly string[];
}

/** Whether a selector chooses the upper entry at a path. */
export function selects(s: Selector): (p: RelPath) => boolean {
  if ('path' in s) return (p) => p === s.path;
  // Compared byte for byte: the glob's UTF-8 as a binary string, like the [Paths] globs; 's': a name may hold a newline.
  return picomatch(Buffer.from(s.glob, 'utf8').toString('latin1'), { dot: true, flags: 's' });
}

/** Moves for the entries the selectors choose (none: the whole upper), in the upper's pre-order. */
export function planReset(upper: readonly UpperEntry[], selectors: readonly Selector[]): ResetPlan {
  const reason = new Map<RelPath, string>();
  const unmatched: string[] = [];
  if (selectors.length === 0) for (const e of upper) if (parentOf(e.path) === '') reason.set(e.path, 'reset of the whole upper');
  for (const s of selectors) {
    const m = selects(s);
    const hits = upper.filter((e) => m(e.path));
    if (hits.length === 0) unmatched.push(s.arg);
    for (const e of hits) if (!reason.has(e.path)) reason.set(e.path, `reset: ${s.arg}`);
  }
  const actions: MoveToBackups[] = [];
  let top: RelPath | undefined;
  for (const e of upper) {
    const why = reason.get(e.path);
    // A chosen entry below another one moves with it.
    if (why === undefined || (top !== undefined && isUnder(e.path, top))) continue;
    top = e.path;
    actions.push({ kind: 'move-to-backups', path: e.path, rule: null, reason: why, entry: { kind: e.kind, type: e.type } });
  }
  return { plan: { actions, conflicts: [] }, unmatched };
}
