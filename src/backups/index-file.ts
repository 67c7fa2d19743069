// index.json of a backup set: what was moved there, from which path, why and under which rule, and what the
// reconcile wrote in the upper (its sidecars, saved names and merged files: what a rollback undoes, plan/rollback.ts).
// Paths are binary strings (one char per byte) in JSON, which round-trips any byte; `display` is for people.
import fs from 'node:fs';
import { RECONCILE_MODES, type ReconcileMode } from '../config/schema.js';
import { StateOverlayError, ioError } from '../errors.js';
import { ENTRY_TYPES, UPPER_KINDS, displayPath, type EntryType, type RelPath, type UpperKind } from '../model/entry.js';
import type { Rule } from '../model/rule.js';
import type { Action, MergeFile, MoveToBackups, Written } from '../plan/types.js';
import { writeFileAtomic } from '../state/atomic.js';
import { Fields, REL_PATH, isObject, parseJson } from '../state/fields.js';
import { isSetName } from '../paths/set-name.js';

export const INDEX_VERSION = 1;

/** What made a set. */
const ORIGINS = ['reconcile', 'vacuum', 'reset'] as const;

export interface IndexEntry {
  readonly path: RelPath;
  readonly display: string;
  readonly kind: UpperKind;
  readonly type: EntryType;
  /** null in a reset's set: the operator asked for it, no rule decided. */
  readonly rule: Rule | null;
  readonly reason: string;
}

export interface BackupIndex {
  readonly version: typeof INDEX_VERSION;
  readonly overlay: string;
  readonly set: string;
  readonly origin: (typeof ORIGINS)[number];
  readonly mode: ReconcileMode | null;
  readonly from: string | null;
  readonly to: string;
  readonly createdAt: string;
  readonly entries: readonly IndexEntry[];
  /** What the reconcile wrote in the upper; absent in the sets of older versions (no sidecar undo). */
  readonly wrote?: readonly WrittenEntry[];
}

export interface WrittenEntry extends Written {
  readonly display: string;
}

/** The entries a plan puts in its set: what it moves there, and the host's versions of the files it merges. */
export function indexEntries(moves: readonly (MoveToBackups | MergeFile)[]): IndexEntry[] {
  return moves.map((m) => ({ path: m.path, display: displayPath(m.path), kind: m.entry.kind, type: m.entry.type, rule: m.rule, reason: m.reason }));
}

/** The sidecars, saved names and merged files a plan writes. */
export function writtenEntries(actions: readonly Action[]): WrittenEntry[] {
  const out: WrittenEntry[] = [];
  for (const a of actions) {
    if (a.kind === 'write-sidecar') out.push({ path: a.path, display: displayPath(a.path), kind: 'sidecar', from: a.from });
    else if (a.kind === 'rename') out.push({ path: a.to, display: displayPath(a.to), kind: 'rename', from: a.path });
    else if (a.kind === 'merge') out.push({ path: a.path, display: displayPath(a.path), kind: 'merge', from: a.path });
  }
  return out;
}

export function writeIndex(file: string, index: BackupIndex): void {
  writeFileAtomic(file, JSON.stringify(index, null, 1) + '\n');
}


/** The index in text, every field checked (errors name the file and the field). */
export function parseIndex(text: string, file: string): BackupIndex {
  const raw = parseJson(text, file);
  if (!isObject(raw) || raw.version !== INDEX_VERSION || !Array.isArray(raw.entries)) {
    throw new StateOverlayError('corrupt', `${file}: not a version ${INDEX_VERSION} backup index`, { path: file });
  }
  const f = Fields.of(file, raw);
  // The entries first: they are what a restore acts on (a reset's have no rule; origin is checked below).
  const reset = f.value('origin') === 'reset';
  const entries = f.objects('entries').map((e): IndexEntry => ({
    path: e.path('path', `a non-empty binary string (${REL_PATH})`),
    display: e.str('display'),
    kind: e.oneOf('kind', UPPER_KINDS),
    type: e.oneOf('type', ENTRY_TYPES),
    rule: e.rule('rule', reset ? 'none' : 'one'),
    reason: e.str('reason'),
  }));
  const wrote = f.has('wrote')
    ? f.objects('wrote').map((w): WrittenEntry => ({ path: w.path('path'), display: w.str('display'), kind: w.oneOf('kind', ['sidecar', 'rename', 'merge'] as const), from: w.path('from') }))
    : undefined;
  return {
    version: INDEX_VERSION,
    overlay: f.str('overlay'),
    set: f.check('set', (v): v is string => typeof v === 'string' && isSetName(v), 'a backup set name (STAMP-GENERATION)'),
    origin: f.oneOf('origin', ORIGINS),
    mode: f.oneOf('mode', [...RECONCILE_MODES, null]),
    from: f.strOrNull('from'),
    to: f.str('to'),
    createdAt: f.str('createdAt'),
    entries,
    ...(wrote ? { wrote } : {}),
  };
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
