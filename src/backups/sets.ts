// Backup sets: backups/STAMP-GENERATION/ holding upper/ (the moved entries at their relative paths) and index.json.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { removeTree } from '../tree/remove.js';
import { readIndex, type BackupIndex } from './index-file.js';

export const SET_TREE = 'upper';
export const SET_INDEX = 'index.json';

/** UTC stamp that sorts by time: 20261123T162233123Z. */
export function stampOf(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** A set name: the stamp, then the generation reduced to safe characters (the index keeps it exactly). */
export function setName(at: Date, generation: string): string {
  // A run of dots becomes one '_': a set name never holds '..' (listing refuses such a name).
  let g = generation.replace(/[^A-Za-z0-9_.:+-]/g, '_').replace(/\.{2,}/g, '_');
  if (g.length > 100) g = g.slice(0, 100);
  return `${stampOf(at)}-${g}`;
}

const SET_RE = /^\d{8}T\d{9}Z-[A-Za-z0-9_.:+-]+$/;
export const isSetName = (name: string): boolean => SET_RE.test(name) && !name.includes('..');

export const setDir = (layout: Layout, set: string): string => path.join(layout.backupsDir, set);
export const setTree = (layout: Layout, set: string): string => path.join(layout.backupsDir, set, SET_TREE);
export const setIndexFile = (layout: Layout, set: string): string => path.join(layout.backupsDir, set, SET_INDEX);

export interface BackupSet {
  readonly name: string;
  readonly dir: string;
  /** null for a set whose index was never written (a run stopped before its journal existed). */
  readonly index: BackupIndex | null;
}

function indexIfAny(file: string): BackupIndex | null {
  if (!fs.existsSync(file)) return null;
  return readIndex(file);
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
  return setNames(layout).map((name) => ({ name, dir: setDir(layout, name), index: indexIfAny(setIndexFile(layout, name)) }));
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

/** Removes the oldest sets beyond keep (Backups.Keep=); returns the names removed. Sets in use (the journal's) are passed in protect. */
export function pruneSets(layout: Layout, keep: number, protect: ReadonlySet<string> = new Set()): string[] {
  // Names only: a corrupt index of an old set must not fail the reconcile that just finished.
  const sets = setNames(layout);
  const excess = sets.length - keep;
  const removed: string[] = [];
  for (const name of sets.slice(0, Math.max(0, excess))) {
    if (protect.has(name)) continue;
    const dir = setDir(layout, name);
    try {
      // Through directory fds (a set may hold a tree deeper than PATH_MAX); a symlink in it is unlinked, never followed.
      removeTree(dir);
    } catch (err) {
      throw ioError('remove backup set', dir, err);
    }
    removed.push(name);
  }
  return removed;
}
