// index.json of a backup set: what was moved there, from which path, why and under which rule.
// Paths are binary strings (one char per byte) in JSON, which round-trips any byte; `display` is for people.
import fs from 'node:fs';
import type { ReconcileMode } from '../config/schema.js';
import { StateOverlayError, ioError } from '../errors.js';
import { displayPath, relPath, type EntryType, type FromJson, type RelPath, type UpperKind } from '../model/entry.js';
import type { MoveToBackups, Rule } from '../plan/types.js';
import { writeFileAtomic } from '../state/atomic.js';

export const INDEX_VERSION = 1;

export interface IndexEntry {
  readonly path: RelPath;
  readonly display: string;
  readonly kind: UpperKind;
  readonly type: EntryType;
  readonly rule: Rule;
  readonly reason: string;
}

export interface BackupIndex {
  readonly version: typeof INDEX_VERSION;
  readonly overlay: string;
  readonly set: string;
  /** 'reconcile' or 'vacuum'. */
  readonly origin: 'reconcile' | 'vacuum';
  readonly mode: ReconcileMode | null;
  readonly from: string | null;
  readonly to: string;
  readonly createdAt: string;
  readonly entries: readonly IndexEntry[];
}

export function indexEntries(moves: readonly MoveToBackups[]): IndexEntry[] {
  return moves.map((m) => ({ path: m.path, display: displayPath(m.path), kind: m.entry.kind, type: m.entry.type, rule: m.rule, reason: m.reason }));
}

export function writeIndex(file: string, index: BackupIndex): void {
  writeFileAtomic(file, JSON.stringify(index, null, 1) + '\n');
}

export function parseIndex(text: string, file: string): BackupIndex {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new StateOverlayError('corrupt', `${file}: not JSON: ${(err as Error).message}`, { path: file, cause: err });
  }
  const o = raw as Partial<FromJson<BackupIndex>> | null;
  if (typeof o !== 'object' || o === null || o.version !== INDEX_VERSION || !Array.isArray(o.entries) || typeof o.set !== 'string') {
    throw new StateOverlayError('corrupt', `${file}: not a version ${INDEX_VERSION} backup index`, { path: file });
  }
  const entries = o.entries.map((e, i): IndexEntry => {
    if (typeof e?.path !== 'string' || e.path === '' || /[^\x00-\xff]/.test(e.path)) {
      throw new StateOverlayError('corrupt', `${file}: entries[${i}].path: expected a non-empty binary string`, { path: file });
    }
    return { ...e, path: relPath(e.path) };
  });
  return { ...(o as FromJson<BackupIndex>), entries };
}

export function readIndex(file: string): BackupIndex {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw ioError('cannot read backup index', file, err);
  }
  return parseIndex(text, file);
}
