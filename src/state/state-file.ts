// state.json: the recorded generation, its manifest and the last reconcile; read and written atomically.
import fs from 'node:fs';
import path from 'node:path';
import type { ReconcileSummary } from '../plan/summary.js';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { writeFileAtomic } from './atomic.js';
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

const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** Validates the text of a state file. */
export function parseState(text: string, file: string): State {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new StateOverlayError('corrupt', `${file}: not JSON: ${(err as Error).message}`, { path: file, cause: err });
  }
  const o = raw as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new StateOverlayError('corrupt', `${file}: expected a JSON object`, { path: file });
  if (o.schemaVersion !== STATE_SCHEMA) {
    throw new StateOverlayError('corrupt', `${file}: schemaVersion ${JSON.stringify(o.schemaVersion)}: expected ${STATE_SCHEMA}`, { path: file });
  }
  if (!isStrOrNull(o.generation)) throw new StateOverlayError('corrupt', `${file}: generation: expected a string or null`, { path: file });
  if (!isStrOrNull(o.manifest) || (typeof o.manifest === 'string' && (o.manifest.includes('/') || o.manifest.startsWith('.')))) {
    throw new StateOverlayError('corrupt', `${file}: manifest: expected a file name or null`, { path: file });
  }
  const last = o.lastReconcile;
  if (last !== null && (typeof last !== 'object' || Array.isArray(last) || typeof (last as Record<string, unknown>).to !== 'string')) {
    throw new StateOverlayError('corrupt', `${file}: lastReconcile: expected an object or null`, { path: file });
  }
  return { schemaVersion: STATE_SCHEMA, generation: o.generation, manifest: o.manifest, lastReconcile: (last as ReconcileSummary | null) ?? null };
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
