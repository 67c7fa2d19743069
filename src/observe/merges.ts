// The three-way merges a reconcile may make: for each upper file under a merge driver (ConfigMerge=,
// Merge=) that the host changed and the base changed too, the old base's content from the pristine store,
// the new base's and the host's read and checked against their digests, and the driver run on the three.
// The planner decides with the outcome (plan/rules.ts); the merged bytes are staged before the journal.
import { StateOverlayError } from '../errors.js';
import type { BaseView, RelPath, UpperEntry } from '../model/entry.js';
import { driverFor } from '../merge/drivers.js';
import { mergeStatus, type StatusMerge } from '../merge/dpkg-status.js';
import type { MergeOutcome } from '../merge/types.js';
import { readBlob, readCapped, stateStore } from '../manifest/pristine.js';
import { sha256 } from '../tree/digest.js';
import type { Layout } from '../paths/layout.js';
import type { PathClass } from '../plan/classes.js';
import type { MergeView } from '../plan/types.js';
import { dpkgFollow, reader } from './dpkg-follow.js';

export interface MergeInputs {
  readonly layout: Layout;
  /** The new base as readable now (null: not readable, `preview --manifest`). */
  readonly base: string | null;
  readonly b0: BaseView | null;
  readonly b1: BaseView;
  readonly upper: readonly UpperEntry[];
  readonly classify: (p: RelPath) => PathClass;
  readonly maxSize: number;
  /** The overlay's mountpoint as the host sees it (the dpkg lists name paths in that view). */
  readonly mountpoint: string;
}

/** Merges tried, by path, and the merged bytes by their digest (what a reconcile stages). */
export interface Merges {
  readonly views: ReadonlyMap<RelPath, MergeView>;
  readonly contents: ReadonlyMap<string, Buffer>;
  /** Upper entries that give way to the new base because a merge decided their owner (observe/dpkg-follow.ts), with why. */
  readonly follow: ReadonlyMap<RelPath, string>;
}

export const NO_MERGES: Merges = Object.freeze({ views: new Map(), contents: new Map(), follow: new Map() });

const message = (err: unknown): string => (err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err));

export function observeMerges(o: MergeInputs): Merges {
  const views = new Map<RelPath, MergeView>();
  const contents = new Map<string, Buffer>();
  const follow = new Map<RelPath, string>();
  if (o.b0 === null) return NO_MERGES;
  for (const u of o.upper) {
    if (u.type !== 'file' || u.kind === 'whiteout' || u.kind === 'foreign') continue;
    const cls = o.classify(u.path);
    if (cls.merge === undefined || cls.keep !== undefined) continue;
    const b1 = o.b1.get(u.path);
    const b0 = o.b0.get(u.path);
    // (A live base's digest is left unread where its size alone tells it apart: the merge reads it whole anyway.)
    if (b1?.type !== 'file' || (typeof b1.digest === 'string' && b1.digest === u.digest)) continue;
    // The base left it as it was (rule 2), or the host's copy is the old base's (nothing of the host's to merge).
    if (b0 !== undefined && (b0.type !== 'file' || b0.digest === b1.digest || (typeof u.digest === 'string' && b0.digest === u.digest))) continue;
    const view = tryMerge(o, cls.merge, u, b0?.digest, typeof b1.digest === 'string' ? b1.digest : undefined, contents, follow);
    views.set(u.path, view);
  }
  return { views, contents, follow };
}

function tryMerge(o: MergeInputs, driverName: string, u: UpperEntry, b0Digest: unknown, b1Digest: string | undefined, contents: Map<string, Buffer>, follow: Map<RelPath, string>): MergeView {
  const unavailable = (why: string): MergeView => ({ driver: driverName, kind: 'unavailable', why });
  const driver = driverFor(driverName, u.path.slice(u.path.lastIndexOf('/') + 1));
  if (typeof driver === 'string') return unavailable(driver);
  const cap = `larger than MergeMaxSize=${o.maxSize} bytes`;
  let b0: Buffer;
  if (b0Digest === undefined) b0 = Buffer.alloc(0);
  else {
    const kept = typeof b0Digest === 'string' ? readBlob(stateStore(o.layout), b0Digest) : undefined;
    if (kept === undefined) return unavailable("no copy of the old base's content was kept (it was recorded before a merge driver applied to it, or was larger than MergeMaxSize=)");
    b0 = kept;
  }
  if (o.base === null) return unavailable('the new base is not readable here');
  const read = (root: string, what: string, digest?: string): Buffer | string => {
    try {
      const b = readCapped(root, u.path, o.maxSize);
      if (b === undefined) return `${what} is ${cap}`;
      return digest === undefined || sha256(b) === digest ? b : `${what} changed since it was read`;
    } catch (err) {
      return `${what} cannot be read (${message(err)})`;
    }
  };
  const b1 = read(o.base, "the new base's file", b1Digest);
  if (typeof b1 === 'string') return unavailable(b1);
  const host = read(o.layout.upper, "the host's copy", typeof u.digest === 'string' ? u.digest : undefined);
  if (typeof host === 'string') return unavailable(host);
  // dpkg-status runs as mergeStatus itself: what follows the merge (dpkgFollow) needs its databases.
  let outcome: MergeOutcome;
  let status: StatusMerge | undefined;
  try {
    outcome = driverName === 'dpkg-status' ? (status = mergeStatus(b0, b1, host)) : driver(b0, b1, host);
  } catch (err) {
    // A driver is a pure function of the three files; one that throws on some input merges nothing.
    if (err instanceof StateOverlayError) return unavailable(err.message);
    return unavailable(`the ${driverName} driver failed: ${message(err)}`);
  }
  if (outcome.kind === 'conflict') return { driver: driverName, kind: 'conflict', conflicts: outcome.conflicts };
  const digest = sha256(outcome.content);
  contents.set(digest, outcome.content);
  if (status?.kind === 'merged') {
    const read = { b1: reader(o.base, o.maxSize), upper: reader(o.layout.upper, o.maxSize) };
    for (const [p, why] of dpkgFollow({ status: u.path, merged: status, upper: o.upper, mountpoint: o.mountpoint, read })) follow.set(p, why);
  }
  return { driver: driverName, kind: 'merged', digest, host: sha256(host), ...(outcome.notes?.length ? { notes: outcome.notes } : {}) };
}
