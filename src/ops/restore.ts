// `restore NAME SET [PATH…]`: puts entries of a backup set back into the upper, offline, as a journaled
// transaction. Every entry is checked before the first one moves: a path the upper holds again is a
// clear error, nothing moved.
import fs from 'node:fs';
import type { Overlay } from '../overlay/overlay.js';
import { StateOverlayError } from '../errors.js';
import type { Log } from '../log/logger.js';
import { displayPath, isUnder, parentOf, relFromText, type RelPath } from '../model/entry.js';
import { JOURNAL_VERSION, type Journal } from '../txn/journal.js';
import { goOffline } from '../txn/offline.js';
import { withSession } from '../txn/session.js';
import { beginTransaction, finishTransaction, resumeTransaction } from '../txn/transaction.js';
import { lstatBeneath } from '../tree/handles.js';
import type { IndexEntry } from '../backups/index-file.js';
import { readRestored } from '../backups/restored.js';
import { findSet, setIndexFile, setTree, type BackupSet } from '../backups/sets.js';

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

export interface RestoreReport {
  readonly set: string;
  readonly restored: readonly string[];
  readonly restoredPaths: readonly RelPath[];
  /** The set had been restored in full before (and removed then): when, and nothing was done now. */
  readonly alreadyRestoredAt: string | null;
}

/** The set, or for one a restore emptied and removed before, when that was (a usage error for an unknown set). */
function setOrRestored(ov: Overlay, name: string): BackupSet | { restoredAt: string } {
  try {
    return findSet(ov.layout, name);
  } catch (err) {
    const done = err instanceof StateOverlayError && err.code === 'usage' ? readRestored(ov.layout).find((r) => r.name === name) : undefined;
    if (done === undefined) throw err;
    return done;
  }
}

export async function restoreBackup(ov: Overlay, log: Log, setName: string, args: readonly string[], opts: { lockWaitMs?: number } = {}): Promise<RestoreReport> {
  const { layout } = ov;
  return withSession(ov, log, { offline: true, ...(opts.lockWaitMs === undefined ? {} : { lockWaitMs: opts.lockWaitMs }) }, async (s) => {
    await goOffline(s, {}, resumeTransaction);
    const found = setOrRestored(ov, setName);
    if ('restoredAt' in found) {
      log.info({ event: 'restore.done', name: ov.name, set: setName, restored: 0 });
      return { set: setName, restored: [], restoredPaths: [], alreadyRestoredAt: found.restoredAt };
    }
    const set = found;
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
          // The file that set's reconcile merged there: the host's version in the set is what it was made from.
          const merged = set.index.wrote?.some((w) => w.kind === 'merge' && w.path === e.path);
          const what = merged ? `the merge that reconcile wrote at ${layout.upper}/${e.display}; move it away first (\`state-overlay reset ${ov.name} ${ov.config.path.replace(/\/+$/, '')}/${e.display}\` moves it to a backup set of its own)` : `${layout.upper}/${e.display} again; move it away first`;
          throw new StateOverlayError('usage', `cannot restore ${e.display}: the upper holds ${what} (nothing was restored)`, { path: `${layout.upper}/${e.display}` });
        }
        if (p !== e.path && st && !st.isDirectory()) {
          throw new StateOverlayError('usage', `cannot restore ${e.display}: ${layout.upper}/${displayPath(p)} is not a directory (nothing was restored)`, { path: `${layout.upper}/${displayPath(p)}` });
        }
      }
    }
    fs.mkdirSync(layout.upper, { recursive: true, mode: 0o755 });
    // Journaled like a reconcile: a cut anywhere is finished by the next run, reconcile, vacuum or restore.
    const journal: Journal = {
      version: JOURNAL_VERSION,
      overlay: ov.name,
      origin: 'restore',
      mode: null,
      from: set.index.from,
      to: set.index.to,
      manifest: null,
      set: set.name,
      startedAt: new Date().toISOString(),
      // Entries a restore cut short had moved back already are done: the executor finds them in place.
      plan: { actions: chosen.map((e) => ({ kind: 'restore-from-backups', path: e.path, rule: e.rule, reason: `restored from backup set ${set.name}` })), conflicts: [] },
    };
    beginTransaction(s, journal);
    await finishTransaction(s, journal);
    log.info({ event: 'restore.done', name: ov.name, set: set.name, restored: chosen.length });
    return { set: set.name, restored: chosen.map((e) => e.display), restoredPaths: chosen.map((e) => e.path), alreadyRestoredAt: null };
  });
}
