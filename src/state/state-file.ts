// state.json: the recorded generation, its manifest and the last reconcile; read and written atomically.
import fs from 'node:fs';
import path from 'node:path';
import { RECONCILE_MODES } from '../config/schema.js';
import type { ReconcileSummary } from '../plan/summary.js';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { writeFileAtomic } from './atomic.js';
import { Fields, isFileName, parseJson } from './fields.js';
import { ensureStateDir } from './state-dir.js';

export const STATE_SCHEMA = 1;

export interface State {
  readonly schemaVersion: typeof STATE_SCHEMA;
  /** The base generation the upper was last reconciled against; null before the first reconcile. */
  readonly generation: string | null;
  /** File name under manifests/ of that generation's manifest, or null when none is kept. */
  readonly manifest: string | null;
  readonly lastReconcile: ReconcileSummary | null;
}

export const emptyState = (): State => ({ schemaVersion: STATE_SCHEMA, generation: null, manifest: null, lastReconcile: null });

/** lastReconcile as recorded, every field checked. */
function summaryOf(f: Fields): ReconcileSummary {
  const count = (key: string) => f.int(key, 0, Number.MAX_SAFE_INTEGER);
  return {
    at: f.str('at'),
    from: f.strOrNull('from'),
    to: f.str('to'),
    mode: f.oneOf('mode', RECONCILE_MODES),
    actions: count('actions'),
    dropped: count('dropped'),
    renamed: count('renamed'),
    sidecars: count('sidecars'),
    // Recorded since three-way merges; none before.
    merged: f.has('merged') ? count('merged') : 0,
    attrs: count('attrs'),
    removedDirs: count('removedDirs'),
    // Recorded since rollbacks (rule 11); none before.
    restored: f.has('restored') ? count('restored') : 0,
    kept: count('kept'),
    conflicts: count('conflicts'),
    backupSet: f.strOrNull('backupSet'),
    ms: count('ms'),
  };
}

/** Validates the text of a state file: every field, errors naming the file and the field. */
export function parseState(text: string, file: string): State {
  const f = Fields.of(file, parseJson(text, file));
  const version = f.value('schemaVersion');
  if (version !== STATE_SCHEMA) throw new StateOverlayError('corrupt', `${file}: schemaVersion ${JSON.stringify(version) ?? 'missing'}: expected ${STATE_SCHEMA}`, { path: file });
  const generation = f.strOrNull('generation');
  const manifest = f.check('manifest', (v): v is string | null => v === null || isFileName(v), 'a file name or null');
  if (f.value('lastReconcile') === null) return { schemaVersion: STATE_SCHEMA, generation, manifest, lastReconcile: null };
  if (!f.isObject('lastReconcile')) f.fail('lastReconcile', 'an object or null');
  return { schemaVersion: STATE_SCHEMA, generation, manifest, lastReconcile: summaryOf(f.obj('lastReconcile')) };
}

/** The overlay's state, or null when it has never been recorded. */
export function readState(layout: Layout): State | null {
  let text: string;
  try {
    text = fs.readFileSync(layout.stateFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError('cannot read', layout.stateFile, err);
  }
  return parseState(text, layout.stateFile);
}

export function writeState(layout: Layout, state: State): void {
  ensureStateDir(layout);
  writeFileAtomic(layout.stateFile, JSON.stringify(state, null, 2) + '\n');
}

/** Absolute path of the manifest a state refers to, or null. */
export function stateManifestFile(layout: Layout, state: State | null): string | null {
  return state?.manifest ? path.join(layout.manifestsDir, state.manifest) : null;
}
