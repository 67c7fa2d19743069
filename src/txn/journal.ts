// The reconcile journal: the whole plan, written durably before the first change, plus an append-only
// progress file (one action index per line) so that a resumed run continues where the last one stopped.
import fs from 'node:fs';
import path from 'node:path';
import type { ReconcileMode } from '../config/schema.js';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { fsyncDir, writeFileAtomic } from '../state/atomic.js';
import { relPath, type FromJson } from '../model/entry.js';
import type { Action, Plan, Step } from '../plan/types.js';

export const JOURNAL_VERSION = 1;

export interface Journal {
  readonly version: typeof JOURNAL_VERSION;
  readonly overlay: string;
  /** What made the journal; a restore's set is the one its entries come back from. */
  readonly origin: 'reconcile' | 'vacuum' | 'restore';
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

export const progressFile = (layout: Layout): string => `${layout.journal}.progress`;

export function writeJournal(layout: Layout, journal: Journal): void {
  fs.rmSync(progressFile(layout), { force: true });
  // Plan paths are binary strings: JSON keeps every byte (written and read back as UTF-8).
  writeFileAtomic(layout.journal, JSON.stringify(journal) + '\n');
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
  let j: Partial<JournalJson>;
  try {
    j = JSON.parse(text) as Partial<JournalJson>;
  } catch (err) {
    throw new StateOverlayError('corrupt', `${layout.journal}: not JSON: ${(err as Error).message}`, { path: layout.journal, cause: err });
  }
  if (j?.version !== JOURNAL_VERSION || typeof j.set !== 'string' || !Array.isArray(j.plan?.actions) || !Array.isArray(j.plan.conflicts) || typeof j.to !== 'string') {
    throw new StateOverlayError('corrupt', `${layout.journal}: not a version ${JOURNAL_VERSION} reconcile journal`, { path: layout.journal });
  }
  const { plan, ...rest } = j as JournalJson;
  return { ...rest, plan: { ...plan, actions: plan.actions.map(actionFromJson), conflicts: plan.conflicts.map(stepFromJson) } };
}

type JournalJson = FromJson<Journal>;

// The plan's paths were written as binary strings (writeJournal) and are read back as the same.
const stepFromJson = <S extends FromJson<Step>>(s: S) => ({ ...s, path: relPath(s.path) });
function actionFromJson(a: FromJson<Action>): Action {
  switch (a.kind) {
    case 'rename': return { ...stepFromJson(a), to: relPath(a.to) };
    case 'write-sidecar': return { ...stepFromJson(a), from: relPath(a.from) };
    case 'keep': {
      if (a.sidecar !== undefined) return { ...stepFromJson(a), sidecar: relPath(a.sidecar) };
      const { sidecar: _none, ...keep } = a;
      return stepFromJson(keep);
    }
    default: return stepFromJson(a);
  }
}

/** How many actions are recorded as done: the last complete record (a torn last line does not count). */
export function readProgress(layout: Layout): number {
  let text: string;
  try {
    text = fs.readFileSync(progressFile(layout), 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw ioError('cannot read', progressFile(layout), err);
  }
  const complete = text.split('\n').slice(0, -1);
  let done = 0;
  for (const line of complete) if (/^\d+$/.test(line) && Number(line) > done) done = Number(line);
  return done;
}

/** Appends progress records durably. */
export class ProgressWriter {
  private fd: number;
  constructor(private readonly file: string) {
    try {
      this.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw ioError('open', file, err);
    }
  }
  done(n: number): void {
    try {
      fs.writeSync(this.fd, `${n}\n`);
      fs.fdatasyncSync(this.fd);
    } catch (err) {
      throw ioError('write', this.file, err);
    }
  }
  close(): void {
    fs.closeSync(this.fd);
  }
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
}
