// Which file contents an observation reads. The planner compares digests only between entries at the
// same path (U with B0 and B1, B0 with B1), and two regular files whose sizes differ cannot have the same
// content: a file that no comparison can find equal is left UNREAD, and the plan is the one full digests
// give. A base file a sidecar may be written from is always read: the sidecar carries its digest.
import type fs from 'node:fs';
import { UNREAD, type BaseEntry, type RelPath } from '../model/entry.js';
import type { DirHandles } from '../tree/handles.js';

type Sized = { type: string; size: number } | undefined;

/** True when a regular file of this size may have the content of one of the others (same type and size). */
export function mayMatch(size: number, others: readonly Sized[]): boolean {
  return others.some((o) => o !== undefined && o.type === 'file' && o.size === size);
}

/** The entry with its digest, read only when the content of a regular file may match one of the others, or is needed whole. */
export function entryFor(h: DirHandles, rel: RelPath, st: fs.Stats, others: readonly Sized[], needed = false): BaseEntry | undefined {
  const skip = st.isFile() && !needed && !mayMatch(st.size, others);
  return h.entry(rel, st, skip ? UNREAD : undefined);
}
