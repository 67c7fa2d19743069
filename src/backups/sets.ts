// Backup sets: backups/STAMP-GENERATION/ holding upper/ (the moved entries at their relative paths) and index.json.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { lstatBeneath } from '../tree/handles.js';
import { removeTree } from '../tree/remove.js';
import { walk } from '../tree/walk.js';
import { readIndex, type BackupIndex } from './index-file.js';
import { isSetName } from '../paths/set-name.js';

export { isSetName, setName } from '../paths/set-name.js';

export const SET_TREE = 'upper';
export const SET_INDEX = 'index.json';

export const setDir = (layout: Layout, set: string): string => path.join(layout.backupsDir, set);
export const setTree = (layout: Layout, set: string): string => path.join(layout.backupsDir, set, SET_TREE);
export const setIndexFile = (layout: Layout, set: string): string => path.join(layout.backupsDir, set, SET_INDEX);

export interface BackupSet {
  readonly name: string;
  readonly dir: string;
  /** null for a set whose index was never written (a run stopped before its journal existed). */
  readonly index: BackupIndex | null;
}

/** The set's index; one that names another set or overlay (copied in from elsewhere, forged) is refused. */
export function indexIfAny(layout: Layout, name: string): BackupIndex | null {
  const file = setIndexFile(layout, name);
  if (!fs.existsSync(file)) return null;
  const index = readIndex(file);
  if (index.set !== name) throw new StateOverlayError('corrupt', `${file}: set: ${JSON.stringify(index.set)}: expected ${JSON.stringify(name)}, the name of its directory`, { path: file });
  if (index.overlay !== layout.name) throw new StateOverlayError('corrupt', `${file}: overlay: ${JSON.stringify(index.overlay)}: expected ${JSON.stringify(layout.name)}, the overlay it is kept for`, { path: file });
  return index;
}

/** Names of every backup set, oldest first (no index read). */
export function setNames(layout: Layout): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(layout.backupsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('cannot list', layout.backupsDir, err);
  }
  return names.filter(isSetName).sort();
}

/** Every backup set, oldest first. */
export function listSets(layout: Layout): BackupSet[] {
  return setNames(layout).map((name) => ({ name, dir: setDir(layout, name), index: indexIfAny(layout, name) }));
}

/** The named set; a usage error naming the known sets when there is none. */
export function findSet(layout: Layout, name: string): BackupSet {
  const sets = listSets(layout);
  const hit = sets.find((s) => s.name === name);
  if (!hit) {
    const known = sets.length ? sets.map((s) => s.name).join(', ') : 'none';
    throw new StateOverlayError('usage', `backup set ${JSON.stringify(name)} not found in ${layout.backupsDir} (sets: ${known})`, { path: layout.backupsDir });
  }
  return hit;
}

/** Whether anything but directories lies in a set's tree (unreadable parts count as holding: kept, not guessed). */
function holdsBeyondDirs(tree: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(tree);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError('lstat', tree, err);
  }
  if (!st.isDirectory()) return true;
  let unreadable = false;
  for (const e of walk(tree, { onError: () => void (unreadable = true) })) if (e.type !== 'dir') return true;
  return unreadable;
}

/**
 * Whether a set holds anything: an entry its index lists, a record of what its reconcile wrote, or anything
 * but directories in its tree. One
 * that holds nothing (a run an older version cut between the set's index and its journal, or a set whose
 * every entry was restored) is no backup: retention removes it and never counts it.
 */
function holdsEntries(layout: Layout, name: string): boolean {
  const tree = setTree(layout, name);
  let index: BackupIndex | null = null;
  try {
    index = indexIfAny(layout, name);
  } catch (err) {
    // A damaged index says nothing: the tree alone tells.
    if (!(err instanceof StateOverlayError && err.code === 'corrupt')) throw err;
  }
  if (index?.entries.some((e) => lstatBeneath(tree, e.path) !== undefined)) return true;
  // What its reconcile wrote, for a rollback to undo.
  if ((index?.wrote?.length ?? 0) > 0) return true;
  return holdsBeyondDirs(tree);
}

export function removeSet(layout: Layout, name: string): void {
  const dir = setDir(layout, name);
  try {
    // Through directory fds (a set may hold a tree deeper than PATH_MAX); a symlink in it is unlinked, never followed.
    removeTree(dir);
  } catch (err) {
    throw ioError('remove backup set', dir, err);
  }
}

/** Whether a set holds nothing any more (a restore moved every entry back): no backup, to be removed. */
export const isEmptied = (layout: Layout, name: string): boolean => !holdsEntries(layout, name);

/**
 * Applies Backups.Keep=: sets that hold nothing are removed, then the oldest beyond keep of those that hold
 * entries; returns the names removed. Sets in use (the journal's) are passed in protect: kept, and counted.
 */
export function pruneSets(layout: Layout, keep: number, protect: ReadonlySet<string> = new Set()): string[] {
  const removed: string[] = [];
  const counted: string[] = [];
  for (const name of setNames(layout)) {
    if (protect.has(name) || holdsEntries(layout, name)) counted.push(name);
    else {
      removeSet(layout, name);
      removed.push(name);
    }
  }
  for (const name of counted.slice(0, Math.max(0, counted.length - keep))) {
    if (protect.has(name)) continue;
    removeSet(layout, name);
    removed.push(name);
  }
  return removed;
}
