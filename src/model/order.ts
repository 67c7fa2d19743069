// Orders of RelPaths and searches over sorted ones (pure): the walker's order, and 'below one of these dirs'.
import { TREE_ROOT, type RelPath } from './entry.js';

/**
 * Orders RelPaths as the walker yields them (pre-order, components in byte order): '/' sorts before any
 * byte. Merge-joins of manifests and walks rely on it.
 */
export function comparePaths(a: RelPath, b: RelPath): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x === 0x2f ? -1 : x) - (y === 0x2f ? -1 : y);
  }
  return a.length - b.length;
}

/** Index of the last of the sorted keys that is <= p (-1 when none), in plain string order. */
export function lastAtOrBefore(sorted: readonly string[], p: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= p) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * A test of "strictly below one of dirs", in log(dirs) and p's length (never in p's depth). The outermost
 * dirs, as `dir/` prefixes in plain string order: every string between a prefix and a path that starts
 * with it starts with it too, so p can only be below the last prefix not after it.
 */
export function underAnyOf(dirs: Iterable<RelPath>): (p: RelPath) => boolean {
  const all = [...new Set(dirs)];
  if (all.includes(TREE_ROOT)) return (p) => p !== '';
  const outer: string[] = [];
  for (const k of all.map((d) => `${d}/`).sort()) {
    const last = outer[outer.length - 1];
    if (last === undefined || !k.startsWith(last)) outer.push(k);
  }
  if (outer.length === 0) return () => false;
  return (p) => {
    const k = outer[lastAtOrBefore(outer, p)];
    return k !== undefined && p.startsWith(k);
  };
}
