// `restore NAME SET [PATH…]`: puts entries of a backup set back into the upper, offline. Every entry is
// checked before the first one moves: a path the upper holds again is a clear error, nothing moved.
import fs from 'node:fs';
import type { Overlay } from '../overlay/overlay.js';
import { StateOverlayError, ioError } from '../errors.js';
import type { Log } from '../log/logger.js';
import { displayPath, isUnder, parentOf, relFromText, relPath, type RelPath } from '../model/entry.js';
import { moveBetween } from '../txn/apply.js';
import { goOffline } from '../txn/offline.js';
import { withSession } from '../txn/session.js';
import { resumeTransaction } from '../txn/transaction.js';
import { DIR_FLAGS, closeQuietly, fdPath } from '../tree/fsat.js';
import { lstatBeneath, openBeneath } from '../tree/handles.js';
import { writeIndex, type IndexEntry } from '../backups/index-file.js';
import { findSet, setIndexFile, setTree } from '../backups/sets.js';

/** A PATH argument (absolute under the mountpoint, or relative to it) as a RelPath of raw bytes. */
export function restorePath(mountpoint: string, arg: string): RelPath {
  let rel = arg;
  const mp = mountpoint.replace(/\/+$/, '');
  if (rel.startsWith('/')) {
    if (!rel.startsWith(mp + '/')) throw new StateOverlayError('usage', `${arg}: not under ${mountpoint}`);
    rel = rel.slice(mp.length + 1);
  }
  rel = rel.replace(/\/+$/, '').replace(/\/{2,}/g, '/');
  if (rel === '' || rel.split('/').some((c) => c === '.' || c === '..')) throw new StateOverlayError('usage', `${arg}: expected a path below ${mountpoint}`);
  return relFromText(rel);
}

/** The index entries PATHs select (an entry, or every entry below a directory PATH). */
export function selectEntries(entries: readonly IndexEntry[], paths: readonly RelPath[], set: string): IndexEntry[] {
  if (paths.length === 0) return [...entries];
  const out = new Set<IndexEntry>();
  for (const p of paths) {
    const hit = entries.filter((e) => e.path === p || isUnder(e.path, p));
    if (hit.length === 0) {
      const inside = entries.find((e) => isUnder(p, e.path));
      const hint = inside ? `: it was moved as part of ${JSON.stringify(inside.display)}, restore that` : '';
      throw new StateOverlayError('usage', `${JSON.stringify(displayPath(p))} is not an entry of backup set ${set}${hint}`);
    }
    for (const e of hit) out.add(e);
  }
  return entries.filter((e) => out.has(e));
}

/** Creates the missing parents of rel in the upper, as copy-up would: with the base directory's mode and owner. */
function makeParents(upper: string, base: string, rel: RelPath): void {
  const parts = rel.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const dir = relPath(parts.slice(0, i).join('/'));
    if (lstatBeneath(upper, dir)) continue;
    const b = lstatBeneath(base, dir);
    const fd = openBeneath(upper, parentOf(dir), DIR_FLAGS);
    try {
      const child = fdPath(fd, Buffer.from(dir.slice(dir.lastIndexOf('/') + 1), 'latin1'));
      fs.mkdirSync(child, { mode: 0o700 });
      const attrs = b?.isDirectory() ? b : undefined;
      fs.chownSync(child, attrs?.uid ?? 0, attrs?.gid ?? 0);
      fs.chmodSync(child, attrs ? attrs.mode & 0o7777 : 0o755);
    } catch (err) {
      throw ioError('create directory', `${upper}/${displayPath(dir)}`, err);
    } finally {
      closeQuietly(fd);
    }
  }
}

export interface RestoreReport {
  readonly set: string;
  readonly restored: readonly string[];
  readonly restoredPaths: readonly RelPath[];
}

export async function restoreBackup(ov: Overlay, log: Log, setName: string, args: readonly string[], opts: { lockWaitMs?: number } = {}): Promise<RestoreReport> {
  const { layout } = ov;
  return withSession(ov, log, { offline: true, ...(opts.lockWaitMs === undefined ? {} : { lockWaitMs: opts.lockWaitMs }) }, async (s) => {
    await goOffline(s, {}, resumeTransaction);
    const set = findSet(layout, setName);
    if (!set.index) throw new StateOverlayError('corrupt', `${setIndexFile(layout, setName)}: missing: the set cannot be restored by path`, { path: setIndexFile(layout, setName) });
    const chosen = selectEntries(set.index.entries, args.map((a) => restorePath(ov.config.path, a)), set.name);
    const tree = setTree(layout, set.name);
    // An entry gone from the set but back in the upper was moved by a restore cut short: it is done.
    const pending = chosen.filter((e) => {
      if (lstatBeneath(tree, e.path)) return true;
      if (lstatBeneath(layout.upper, e.path)) return false;
      throw new StateOverlayError('corrupt', `${tree}/${e.display}: missing from the backup set`, { path: `${tree}/${e.display}` });
    });
    for (const e of pending) {
      for (let p: RelPath = e.path; p !== ''; p = parentOf(p)) {
        const st = lstatBeneath(layout.upper, p);
        if (p === e.path && st) {
          throw new StateOverlayError('usage', `cannot restore ${e.display}: the upper holds ${layout.upper}/${e.display} again; move it away first (nothing was restored)`, { path: `${layout.upper}/${e.display}` });
        }
        if (p !== e.path && st && !st.isDirectory()) {
          throw new StateOverlayError('usage', `cannot restore ${e.display}: ${layout.upper}/${displayPath(p)} is not a directory (nothing was restored)`, { path: `${layout.upper}/${displayPath(p)}` });
        }
      }
    }
    fs.mkdirSync(layout.upper, { recursive: true, mode: 0o755 });
    for (const e of pending) {
      makeParents(layout.upper, ov.base, e.path);
      await moveBetween(tree, layout.upper, e.path);
    }
    const left = set.index.entries.filter((e) => !chosen.includes(e));
    writeIndex(setIndexFile(layout, set.name), { ...set.index, entries: left });
    log.info({ event: 'restore.done', name: ov.name, set: set.name, restored: chosen.length });
    return { set: set.name, restored: chosen.map((e) => e.display), restoredPaths: chosen.map((e) => e.path) };
  });
}
