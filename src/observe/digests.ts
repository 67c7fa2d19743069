// Which file contents a plan needs read. The planner compares digests only between entries at the same
// path (U with B0 and B1, B0 with B1), and two regular files whose sizes differ cannot have the same
// content: a file that no comparison can find equal is left unhashed, and the plan is the one full
// digests give. Sidecars carry their source's digest, which execution verifies: those are read after
// planning, for the few entries that get one.
import type fs from 'node:fs';
import type { BaseEntry, RelPath } from '../model/entry.js';
import { TreeProbe } from './probe.js';
import type { Action, Plan } from '../plan/types.js';

const PREFIX = 'unhashed ';

/**
 * The digest recorded for a regular file whose content was not read: never a sha256, and distinct per
 * side and path, so it equals nothing it can be compared with.
 */
export const unhashed = (side: 'upper' | 'base', path: RelPath): string => `${PREFIX}${side} ${path}`;
export const isUnhashed = (digest: string): boolean => digest.startsWith(PREFIX);

/** True when a regular file of this size may have the content of one of the others (same type and size). */
export function mayMatch(size: number, others: readonly ({ type: string; size: number } | undefined)[]): boolean {
  return others.some((o) => o !== undefined && o.type === 'file' && o.size === size);
}

/** The entry with its digest, read only when the content of a regular file may match one of the others. */
export function entryFor(probe: TreeProbe, rel: RelPath, st: fs.Stats, others: readonly ({ type: string; size: number } | undefined)[]): BaseEntry | undefined {
  const skip = st.isFile() && !mayMatch(st.size, others);
  return probe.entry(rel, st, skip ? unhashed('base', rel) : undefined);
}

/** The plan with the digests of its sidecar sources read from the live base, where planning left them unhashed. */
export function withSidecarDigests(plan: Plan, baseDir: string): Plan {
  if (!plan.actions.some((a) => a.kind === 'write-sidecar' && isUnhashed(a.digest))) return plan;
  const probe = new TreeProbe(baseDir);
  try {
    const actions = plan.actions.map((a): Action => {
      if (a.kind !== 'write-sidecar' || !isUnhashed(a.digest)) return a;
      const st = probe.lstat(a.from);
      // Gone or replaced since planning: the placeholder stays, and execution refuses to write the sidecar.
      return st === undefined || !st.isFile() ? a : { ...a, digest: probe.digest(a.from, st) };
    });
    return { ...plan, actions };
  } finally {
    probe.close();
  }
}
