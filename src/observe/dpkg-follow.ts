// What follows a clean merge of dpkg's status file (the `dpkg-status` driver): the upper's files in the
// status file's sibling info/ directory of packages whose merged stanza is the new base's (their control
// files, maintainer scripts and lists must be the base's too), and the upper's entries at the paths such
// a package owns (its `.list`, the base's and the host's) that lie in this overlay. Each goes to the backup
// set, so the new base's file shows; everything else is judged by the table as usual.
import { baseWonPaths, infoFollowStatus } from '../merge/dpkg-info.js';
import type { StatusMerge } from '../merge/dpkg-status.js';
import { joinRel, parentOf, relPath, type RelPath, type UpperEntry } from '../model/entry.js';
import { readCapped } from '../manifest/pristine.js';

export interface FollowInputs {
  /** The status file's path in the overlay. */
  readonly status: RelPath;
  /** The driver's clean merge of the status file (the three databases it read with it). */
  readonly merged: Extract<StatusMerge, { kind: 'merged' }>;
  readonly upper: readonly UpperEntry[];
  /** The overlay's mountpoint as the host sees it (`/var/lib/dpkg`, `/`-less paths of `.list` files are under it). */
  readonly mountpoint: string;
  readonly read: { readonly b1: (rel: RelPath) => Buffer | undefined; readonly upper: (rel: RelPath) => Buffer | undefined };
}

/** Upper paths that give way to the new base, each with why. */
export function dpkgFollow(f: FollowInputs): Map<RelPath, string> {
  const out = new Map<RelPath, string>();
  const m = f.merged;
  const dbs = { ...m.inputs, merged: m.db };
  const info = joinRel(parentOf(f.status), relPath('info'));
  const inInfo = f.upper.filter((e) => parentOf(e.path) === info && e.type !== 'dir');
  const names = inInfo.map((e) => e.path.slice(info.length + 1));
  const verdicts = infoFollowStatus(dbs, names);
  for (const e of inInfo) {
    if (verdicts.get(e.path.slice(info.length + 1)) === 'drop') out.set(e.path, 'follows the merged dpkg status: its package is the new base\'s there');
  }
  // Paths of the packages the new base won, as their lists name them (absolute, in the host's view).
  const prefix = `${Buffer.from(f.mountpoint.replace(/\/+$/, ''), 'utf8').toString('latin1')}/`;
  const owned = baseWonPaths(m.baseWon, dbs, { b1: (n) => f.read.b1(joinRel(info, relPath(n))), upper: (n) => f.read.upper(joinRel(info, relPath(n))) });
  const here = new Set([...owned].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length)));
  for (const e of f.upper) {
    if (e.type !== 'dir' && here.has(e.path) && !out.has(e.path)) out.set(e.path, 'follows the merged dpkg status: a file of a package the new base won');
  }
  return out;
}

/** A reader of files below root of at most max bytes, undefined where unreadable. */
export const reader = (root: string, max: number) => (rel: RelPath): Buffer | undefined => {
  try {
    return readCapped(root, rel, max);
  } catch {
    return undefined;
  }
};
