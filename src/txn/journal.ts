// The reconcile journal: the whole plan, written durably before the first change (its progress in
// progress.ts). Read back, every field is checked before anything acts on it: a damaged journal is refused
// naming the file and the field, never carried out (a set name moving entries out of the backups) or left
// to fail half-way with a TypeError.
import fs from 'node:fs';
import path from 'node:path';
import { RECONCILE_MODES, type ReconcileMode } from '../config/schema.js';
import { StateOverlayError, ioError } from '../errors.js';
import { ENTRY_TYPES, UPPER_KINDS, parentOf } from '../model/entry.js';
import { DRIVER_NAMES } from '../merge/drivers.js';
import type { Layout } from '../paths/layout.js';
import { isSetName } from '../paths/set-name.js';
import type { Action, Plan, Step } from '../plan/types.js';
import { fsyncDir, writeFileAtomic } from '../state/atomic.js';
import { Fields, isFileName, isObject, parseJson } from '../state/fields.js';

export const JOURNAL_VERSION = 1;

/** The journal's progress file (progress.ts). */
export const progressFile = (layout: Layout): string => `${layout.journal}.progress`;

export interface Journal {
  readonly version: typeof JOURNAL_VERSION;
  readonly overlay: string;
  /** What made the journal; a restore's set is the one its entries come back from. */
  readonly origin: (typeof ORIGINS)[number];
  readonly mode: ReconcileMode | null;
  readonly from: string | null;
  readonly to: string;
  /** File name under manifests/ recorded in state.json once done. */
  readonly manifest: string | null;
  /** The backup set moved entries go to. */
  readonly set: string;
  readonly startedAt: string;
  readonly plan: Plan;
}

export function writeJournal(layout: Layout, journal: Journal): void {
  fs.rmSync(progressFile(layout), { force: true });
  // Plan paths are binary strings: JSON keeps every byte (written and read back as UTF-8).
  const text = JSON.stringify(journal) + '\n';
  // Never a journal the next run would refuse: it is checked as it will be read back.
  try {
    parseJournal(text, layout.journal, layout.name);
  } catch (err) {
    throw new StateOverlayError('internal', `refusing to write a journal that does not read back: ${(err as Error).message}`, { path: layout.journal, cause: err });
  }
  writeFileAtomic(layout.journal, text);
}

/** The journal of an interrupted run, or null. */
export function readJournal(layout: Layout): Journal | null {
  let text: string;
  try {
    text = fs.readFileSync(layout.journal, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError('cannot read', layout.journal, err);
  }
  return parseJournal(text, layout.journal, layout.name);
}

const ORIGINS = ['reconcile', 'vacuum', 'restore', 'reset'] as const;
const PLAN_KINDS = ['move-to-backups', 'rename', 'write-sidecar', 'merge', 'set-attrs', 'remove-empty-dir', 'keep'] as const satisfies readonly Action['kind'][];
const isSha256 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isSetNameValue = (v: unknown): v is string => typeof v === 'string' && isSetName(v);

/** Why text is not a journal at all (no version, no plan), or undefined. */
function notAJournal(raw: unknown): string | undefined {
  if (!isObject(raw)) return 'expected a JSON object';
  if (raw.version !== JOURNAL_VERSION) return `version: expected ${JOURNAL_VERSION}, got ${JSON.stringify(raw.version) ?? 'nothing'}`;
  const plan = raw.plan;
  if (!isObject(plan)) return 'plan: expected an object';
  if (!Array.isArray(plan.actions)) return 'plan.actions: expected an array';
  if (!Array.isArray(plan.conflicts)) return 'plan.conflicts: expected an array';
  return undefined;
}

/** The journal in text, every field checked; file names it in errors, overlay is the one whose state dir holds it. */
export function parseJournal(text: string, file: string, overlay: string): Journal {
  const raw = parseJson(text, file);
  const why = notAJournal(raw);
  if (why !== undefined) throw new StateOverlayError('corrupt', `${file}: not a version ${JOURNAL_VERSION} reconcile journal (${why})`, { path: file });
  const j = Fields.of(file, raw);
  if (j.str('overlay') !== overlay) j.fail('overlay', `${JSON.stringify(overlay)}, the overlay whose state dir holds it`);
  const origin = j.oneOf('origin', ORIGINS);
  const plan = j.obj('plan');
  // A rollback (a reconcile) restores entries from the set it names; a restore, from the journal's set.
  const rollbackSet = origin === 'reconcile' && plan.has('rollbackSet') ? plan.check('rollbackSet', isSetNameValue, 'a backup set name (STAMP-GENERATION)') : undefined;
  const kinds =
    origin === 'restore' ? (['restore-from-backups'] as const)
    : origin === 'reset' ? (['move-to-backups'] as const)
    : rollbackSet !== undefined ? ([...PLAN_KINDS, 'restore-from-backups'] as const)
    : PLAN_KINDS;
  return {
    version: JOURNAL_VERSION,
    overlay,
    origin,
    mode: j.oneOf('mode', [...RECONCILE_MODES, null]),
    from: j.strOrNull('from'),
    to: j.str('to'),
    manifest: j.check('manifest', (v): v is string | null => v === null || isFileName(v), 'a file name or null'),
    set: j.check('set', isSetNameValue, 'a backup set name (STAMP-GENERATION)'),
    startedAt: j.str('startedAt'),
    plan: { actions: plan.objects('actions').map((a) => actionOf(a, kinds, origin)), conflicts: plan.objects('conflicts').map((c) => stepOf(c, origin)), ...(rollbackSet === undefined ? {} : { rollbackSet }) },
  };
}

function stepOf(f: Fields, origin: Journal['origin']): Step {
  // A reset's steps have no rule; a restore's have the rule of the set they come from (none: a reset's).
  return ordered(f, { path: f.path('path'), rule: f.rule('rule', origin === 'reset' ? 'none' : origin === 'restore' ? 'any' : 'one'), reason: f.str('reason') });
}

const attrsOf = (f: Fields) => ({ mode: f.mode('mode'), uid: f.int('uid', 0, 0xffffffff), gid: f.int('gid', 0, 0xffffffff) });

/** A name in the directory of `beside`: a saved name or sidecar never lands elsewhere. */
function besideOf(f: Fields, key: string, beside: Step['path']) {
  const p = f.path(key);
  if (p === beside || parentOf(p) !== parentOf(beside)) f.fail(key, 'another name in the directory of path', false);
  return p;
}

function actionOf(f: Fields, kinds: readonly Action['kind'][], origin: Journal['origin']): Action {
  // A restore only brings entries back, a reset only moves them away; a reconcile brings one back only when it is a rollback, a vacuum never.
  const kind = f.oneOf('kind', kinds);
  const step = stepOf(f, origin);
  switch (kind) {
    case 'move-to-backups': {
      const e = f.obj('entry');
      return ordered(f, { kind, ...step, entry: ordered(e, { kind: e.oneOf('kind', UPPER_KINDS), type: e.oneOf('type', ENTRY_TYPES) }) });
    }
    case 'rename':
      return ordered(f, { kind, ...step, to: besideOf(f, 'to', step.path) });
    case 'write-sidecar':
      return ordered(f, { kind, ...step, from: besideOf(f, 'from', step.path), type: f.oneOf('type', ['file', 'symlink'] as const), digest: f.check('digest', isSha256, 'a sha256 in hex'), ...attrsOf(f) });
    case 'merge': {
      const e = f.obj('entry');
      return ordered(f, { kind, ...step, driver: f.oneOf('driver', DRIVER_NAMES), digest: f.check('digest', isSha256, 'a sha256 in hex'), host: f.check('host', isSha256, 'a sha256 in hex'), entry: ordered(e, { kind: e.oneOf('kind', UPPER_KINDS), type: e.oneOf('type', ['file'] as const) }) });
    }
    case 'set-attrs':
      return ordered(f, { kind, ...step, ...attrsOf(f) });
    case 'keep':
      return f.has('sidecar') ? ordered(f, { kind, ...step, sidecar: besideOf(f, 'sidecar', step.path) }) : ordered(f, { kind, ...step });
    case 'remove-empty-dir':
    case 'restore-from-backups':
      return ordered(f, { kind, ...step });
  }
}

/** v with its keys in the order the file has them (an action reads back as it was written). */
function ordered<T extends object>(f: Fields, v: T): T {
  const keys = f.keys().filter((k) => k in v);
  return Object.fromEntries([...keys, ...Object.keys(v).filter((k) => !keys.includes(k))].map((k) => [k, v[k as keyof T]])) as T;
}

/**
 * Removes the journal once state.json records the result, then its progress: never the other way round, so
 * a cut between the two never leaves a journal without its progress. between: a test-only fault point.
 */
export function removeJournal(layout: Layout, between?: () => void): void {
  const remove = (f: string) => {
    try {
      fs.rmSync(f, { force: true });
    } catch (err) {
      throw ioError('remove', f, err);
    }
  };
  remove(layout.journal);
  fsyncDir(path.dirname(layout.journal));
  between?.();
  remove(progressFile(layout));
  fsyncDir(path.dirname(layout.journal));
}

/**
 * Removes the progress file a finished journal left behind (a cut between removeJournal's two steps, or
 * before the second was durable); the caller holds the overlay's lock. Harmless to keep (the next journal
 * starts by removing it), but a run should leave the state dir as a finished transaction does.
 */
export function removeOrphanProgress(layout: Layout): boolean {
  if (fs.existsSync(layout.journal) || !fs.existsSync(progressFile(layout))) return false;
  try {
    fs.rmSync(progressFile(layout), { force: true });
  } catch (err) {
    throw ioError('remove', progressFile(layout), err);
  }
  fsyncDir(path.dirname(layout.journal));
  return true;
}
