// Which files of the upper's /var/lib/dpkg/info follow a merged status file: a package's control files
// (PKG.list, PKG:ARCH.md5sums, ...) go with whichever side's stanza the merge kept.
import type { Stanza, StatusDb } from './dpkg-db.js';

/** The four status databases a merge saw and made. */
export interface StatusDbs {
  readonly b0: StatusDb;
  readonly b1: StatusDb;
  readonly upper: StatusDb;
  readonly merged: StatusDb;
}

/** `keep`: the upper's file stays; `drop`: the new base's shows; `other`: not a package's file (`format`). */
export type InfoVerdict = 'keep' | 'drop' | 'other';

/** The package a file name belongs to: `PKG.EXT` or `PKG:ARCH.EXT`, split at the last dot as dpkg does. */
function owner(name: string): { pkg: string; arch: string | undefined } | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const [pkg, arch] = name.slice(0, dot).split(':', 2) as [string, string | undefined];
  return { pkg, arch };
}

/** A name without an architecture is the instance that is not Multi-Arch: same (dpkg's info db format 1). */
const instance = (db: StatusDb, pkg: string, arch: string | undefined): Stanza | undefined =>
  arch === undefined ? [...db.values()].find((s) => s.package === pkg && !s.multiArchSame) : db.get(`${pkg}:${arch}`);

/**
 * For each name in the upper's info/ directory (a whiteout's name included: it is the host's deletion of
 * that file), `keep` when the merged database holds the package exactly as the host's copy does (the same
 * stanza, or absent from both: the host's removal stood), else `drop`: the new base's stanza won, or no
 * database of the four knows the package. Pure: the caller lists the directory and applies the verdicts.
 */
export function infoFollowStatus(dbs: StatusDbs, names: readonly string[]): Map<string, InfoVerdict> {
  const out = new Map<string, InfoVerdict>();
  for (const name of names) {
    const o = owner(name);
    if (o === undefined) {
      out.set(name, 'other');
      continue;
    }
    const [b0, b1, upper, merged] = [dbs.b0, dbs.b1, dbs.upper, dbs.merged].map((db) => instance(db, o.pkg, o.arch));
    const known = [b0, b1, upper, merged].some((s) => s !== undefined);
    out.set(name, known && merged?.text === upper?.text ? 'keep' : 'drop');
  }
  return out;
}

/** The name of a package's control file in info/: `PKG.EXT`, or `PKG:ARCH.EXT` for Multi-Arch: same. */
export const infoName = (s: Stanza, ext: string): string => `${s.multiArchSame ? s.key : s.package}.${ext}`;

/** A side's info/ file by name (its bytes), or undefined where it has none. */
export type InfoReader = (name: string) => Buffer | undefined;

/**
 * The paths whose entries in the upper (copies and whiteouts alike) must give way to the new base because a
 * package the base won owns them: every path the `.list` file names, the new base's and the host's, of
 * each key in `baseWon` (as mergeStatus returns it). Lists name directories too, which other packages
 * share: the caller applies this to non-directories only.
 */
export function baseWonPaths(baseWon: readonly string[], dbs: Pick<StatusDbs, 'b1' | 'upper'>, read: { readonly b1: InfoReader; readonly upper: InfoReader }): Set<string> {
  const out = new Set<string>();
  for (const key of baseWon) {
    for (const side of ['b1', 'upper'] as const) {
      const s = dbs[side].get(key);
      const list = s === undefined ? undefined : read[side](infoName(s, 'list'));
      for (const p of list?.toString('latin1').split('\n') ?? []) if (p !== '') out.add(p);
    }
  }
  return out;
}
