// Classifies every upper entry against the base below it (DESIGN section 2): state, shadow, merged dir,
// opaque dir, whiteout or foreign (redirect/metacopy, which our mounts never produce).
import type fs from 'node:fs';
import { UNREAD, isUnder, statAttrs, type EntryType, type RelPath, type UpperEntry, type UpperKind } from '../model/entry.js';
import type { OverlayXattrs } from '../tree/xattr.js';

/** The kind of one upper entry, given its type, rdev, size, overlay xattrs and the base type at its path. */
export function classifyEntry(
  e: { type: EntryType; rdev: number; size: number },
  x: OverlayXattrs,
  base: EntryType | undefined,
): Pick<UpperEntry, 'kind' | 'foreign' | 'whiteout'> {
  if (x.redirect !== undefined) return { kind: 'foreign', foreign: 'redirect' };
  if (x.metacopy) return { kind: 'foreign', foreign: 'metacopy' };
  if (e.type === 'chr' && e.rdev === 0) return { kind: 'whiteout', whiteout: 'chardev' };
  if (e.type === 'file' && e.size === 0 && x.whiteout) return { kind: 'whiteout', whiteout: 'xattr' };
  if (e.type === 'dir') {
    if (x.opaque === 'y') return { kind: 'opaque-dir' };
    if (base === 'dir') return { kind: 'merged-dir' };
  }
  return { kind: base === undefined ? 'state' : 'shadow' };
}

export const NO_XATTRS: OverlayXattrs = { whiteout: false, metacopy: false, namespaces: [] };

/** What classification needs of one upper entry (a WalkEntry is one). */
export interface UpperStat {
  readonly path: RelPath;
  readonly type: EntryType;
  readonly st: Pick<fs.Stats, 'mode' | 'uid' | 'gid' | 'size' | 'rdev'>;
}

/**
 * Classifies upper entries given in pre-order. `base` gives the type of the base entry at a path
 * (undefined when absent); `xattrs` reads an entry's overlay xattrs. Both are asked only outside
 * hidden subtrees (and xattrs only of directories and regular files): entries below anything but a
 * merged dir are state, nothing of the base shows through there. Contents are not read (UNREAD).
 */
export function* classifyUpper<E extends UpperStat>(
  entries: Iterable<E>,
  base: (p: RelPath) => EntryType | undefined,
  xattrs: (e: E) => OverlayXattrs,
): Generator<UpperEntry> {
  // The innermost directory whose subtree hides the base (opaque, state, shadow or foreign dir).
  let hidden: RelPath | undefined;
  for (const w of entries) {
    if (hidden !== undefined && !isUnder(w.path, hidden)) hidden = undefined;
    if (hidden !== undefined) {
      yield entryOf(w, 'state', {});
      continue;
    }
    const x = w.type === 'dir' || w.type === 'file' ? xattrs(w) : NO_XATTRS;
    const c = classifyEntry({ type: w.type, rdev: w.st.rdev, size: w.st.size }, x, base(w.path));
    if (w.type === 'dir' && c.kind !== 'merged-dir') hidden = w.path;
    yield entryOf(w, c.kind, c);
  }
}

function entryOf(w: UpperStat, kind: UpperKind, extra: Pick<UpperEntry, 'foreign' | 'whiteout'>): UpperEntry {
  return {
    path: w.path,
    kind,
    type: w.type,
    ...statAttrs(w.st),
    // Read only where a comparison needs it (observe/inputs.ts); a directory, FIFO or socket has no content.
    digest: w.type === 'dir' || w.type === 'fifo' || w.type === 'socket' ? '' : UNREAD,
    ...(extra.foreign ? { foreign: extra.foreign } : {}),
    ...(extra.whiteout ? { whiteout: extra.whiteout } : {}),
  };
}
