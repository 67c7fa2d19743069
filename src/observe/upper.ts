// The one reader of an upper: walked once (the stat of every entry kept), classified against a base by
// the rules of classify.ts, its overlay xattrs read only where classification asks (outside subtrees
// that hide the base), and its contents hashed through the same handles, with the replaced-while-hashing
// check. Reconcile, vacuum, diff and status all read the upper through it.
import fs from 'node:fs';
import { ioError } from '../errors.js';
import { displayPath, isUnder, type Digest, type EntryType, type RelPath, type UpperEntry } from '../model/entry.js';
import { DirHandles } from '../tree/handles.js';
import { entryType } from '../tree/fsat.js';
import { walk } from '../tree/walk.js';
import { overlayXattrsFromNames, type OverlayXattrs, type XattrNamespace } from '../tree/xattr.js';
import { NO_XATTRS, classifyUpper, type UpperStat } from './classify.js';
import { digestsOnPool } from './hash-pool.js';

export interface UpperWalked extends UpperStat {
  readonly st: UpperStat['st'] & { readonly ino: number };
  /** Its xattr names as the walk listed them (undefined: listing failed, read them through the handles). */
  readonly xattrNames?: readonly string[];
}

export interface ReadUpperOptions {
  /** Unreadable entries are reported here and left out (status, diff); without it they fail the read. */
  readonly onError?: (path: RelPath, err: Error) => void;
  /** Namespaces whose overlay.* xattrs count (default both). */
  readonly namespaces?: readonly XattrNamespace[];
}

export class UpperTree {
  private readonly handles: DirHandles;
  private readonly xattrCache = new Map<RelPath, OverlayXattrs>();

  private constructor(
    readonly dir: string,
    /** Every entry, pre-order. */
    readonly walked: readonly UpperWalked[],
    private readonly opts: ReadUpperOptions,
  ) {
    this.handles = new DirHandles(dir);
  }

  /** Walks the upper at dir (none there: an empty upper). */
  static read(dir: string, opts: ReadUpperOptions = {}): UpperTree {
    const out: UpperWalked[] = [];
    if (fs.existsSync(dir)) {
      const onError = opts.onError ?? ((p: RelPath, err: Error) => {
        throw ioError('read upper entry', `${dir}/${displayPath(p)}`, err);
      });
      // The xattr names come with the lstat: most entries have no overlay xattr, and then need no read.
      for (const w of walk(dir, { onError, xattrs: true })) {
        const { mode, uid, gid, size, rdev, ino } = w.st;
        out.push({ path: w.path, type: w.type, st: { mode, uid, gid, size, rdev, ino }, xattrNames: w.xattrNames });
      }
    }
    return new UpperTree(dir, out, opts);
  }

  private overlayXattrs(e: UpperWalked): OverlayXattrs {
    let x = this.xattrCache.get(e.path);
    if (x === undefined) {
      try {
        x = (e.xattrNames && overlayXattrsFromNames(e.xattrNames, this.opts.namespaces)) ?? this.handles.xattrs(e.path, this.opts.namespaces);
      } catch (err) {
        if (this.opts.onError === undefined) throw err;
        this.opts.onError(e.path, err as Error);
        x = NO_XATTRS;
      }
      this.xattrCache.set(e.path, x);
    }
    return x;
  }

  /** Every entry with its kind against the base whose entry types `base` tells (undefined: absent there). */
  classify(base: (p: RelPath) => EntryType | undefined): UpperEntry[] {
    return [...classifyUpper(this.walked, base, (e) => this.overlayXattrs(e))];
  }

  /**
   * The identity of the i-th walked entry's xattrs other than overlay's own (tree/xattr.ts): read only
   * when the listing classification made shows some, or when there was none (a symlink, a hidden entry).
   */
  xattrs(i: number): string {
    const w = this.walked[i]!;
    const x = this.xattrCache.get(w.path);
    if (x !== undefined && !x.others) return '';
    return this.handles.identityXattrs(w.path);
  }

  /** The content digests of the walked entries at indices, files hashed on the thread pool (hash-pool.ts). */
  digests(indices: readonly number[]): Promise<Digest[]> {
    return digestsOnPool(this.handles, indices.map((i) => this.walked[i]!));
  }

  close(): void {
    this.handles.close();
  }
}

/** The type of the live base's entry at a path, as classify asks it (undefined: absent, or no base to read). */
export const liveTypeOf = (base: DirHandles | null) => (p: RelPath): EntryType | undefined => {
  const st = base?.lstat(p);
  return st === undefined ? undefined : entryType(st);
};

/** Runs fn on the upper at dir, read once, and closes its handles. */
export function withUpper<T>(dir: string, opts: ReadUpperOptions, fn: (u: UpperTree) => T): T {
  const u = UpperTree.read(dir, opts);
  try {
    return fn(u);
  } finally {
    u.close();
  }
}

/** The paths of the entries that sit directly over the base: not below a directory that hides it. */
export function topPaths(entries: readonly UpperEntry[]): Set<RelPath> {
  const top = new Set<RelPath>();
  let hidden: RelPath | undefined;
  for (const e of entries) {
    if (hidden !== undefined && isUnder(e.path, hidden)) continue;
    hidden = undefined;
    top.add(e.path);
    if (e.type === 'dir' && e.kind !== 'merged-dir') hidden = e.path;
  }
  return top;
}
