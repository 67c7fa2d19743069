// A set of paths that also tells, in log time, whether any of them lies below a directory: those are the
// run of the sorted paths that start with `dir/`.
import { lastAtOrBefore } from '../model/order.js';
import type { RelPath } from '../model/entry.js';

export class PathSet {
  private readonly set: Set<RelPath>;
  private readonly sorted: RelPath[];

  constructor(paths: Iterable<RelPath>) {
    this.set = new Set(paths);
    this.sorted = [...this.set].sort();
  }

  has(p: RelPath): boolean {
    return this.set.has(p);
  }

  add(p: RelPath): void {
    if (this.set.has(p)) return;
    this.set.add(p);
    this.sorted.splice(lastAtOrBefore(this.sorted, p) + 1, 0, p);
  }

  /** True when a path of the set is strictly below dir. */
  hasBelow(dir: RelPath): boolean {
    const prefix = dir === '' ? '' : `${dir}/`;
    const next = this.sorted[lastAtOrBefore(this.sorted, prefix) + 1];
    return prefix === '' ? this.sorted.some((p) => p !== '') : next !== undefined && next.startsWith(prefix);
  }
}
