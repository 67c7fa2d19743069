// Test-only fault points: STATE_OVERLAY_FAULT_AFTER stops a transaction at one point, as a power cut there
// would, so that tests can prove every journal converges from any cut. Unset on real hosts; a value that
// names no point is a usage error.
import { StateOverlayError } from '../errors.js';

export const FAULT_ENV = 'STATE_OVERLAY_FAULT_AFTER';

/** The named points of a transaction, in the order it passes them. */
const POINTS = {
  journal: 'the journal was made durable, before the backup set was made',
  index: "the backup set's index was written, before the first action",
  sidecars: "the new base's sidecars were written, before they were synced and recorded",
  actions: 'every action was done and recorded, before the result was recorded',
  state: 'the result was recorded, before the journal was removed',
  'journal-removed': 'the journal was removed, before its progress file',
} as const;
export type FaultPoint = keyof typeof POINTS;

/**
 * Where to stop: after action k is applied and before anything after it is recorded (`k`), after the n-th
 * syncfs at the end of a batch (`sync:n`), or at a named point.
 */
export type Fault = { readonly after: number } | { readonly sync: number } | { readonly at: FaultPoint };

/** The fault point the environment names, or undefined. */
export function faultFromEnv(env: NodeJS.ProcessEnv = process.env): Fault | undefined {
  const v = env[FAULT_ENV];
  if (v === undefined || v === '') return undefined;
  if (/^[1-9]\d*$/.test(v)) return { after: Number(v) };
  const sync = /^sync:([1-9]\d*)$/.exec(v);
  if (sync) return { sync: Number(sync[1]) };
  if (Object.hasOwn(POINTS, v)) return { at: v as FaultPoint };
  const names = Object.keys(POINTS).join(', ');
  throw new StateOverlayError('usage', `${FAULT_ENV}=${v}: expected an action number, sync:N or one of ${names} (test only)`);
}

const stop = (value: string, what: string) => new StateOverlayError('internal', `${FAULT_ENV}=${value}: stopped ${what} (test-only fault point)`);

/** Stops at a named point when the environment asks for it. */
export function faultAt(point: FaultPoint, fault: Fault | undefined = faultFromEnv()): void {
  if (fault !== undefined && 'at' in fault && fault.at === point) throw stop(point, `after ${POINTS[point]}`);
}

/** Stops after action k (of total) when the fault asks for it. */
export function faultAfterAction(k: number, total: number, fault: Fault | undefined): void {
  if (fault !== undefined && 'after' in fault && fault.after === k) throw stop(String(k), `after action ${k} of ${total}`);
}

/** Counts the checkpoint syncfs calls of a run and stops after the n-th when the fault asks for it. */
export function syncCounter(fault: Fault | undefined): () => void {
  let n = 0;
  return () => {
    n++;
    if (fault !== undefined && 'sync' in fault && fault.sync === n) throw stop(`sync:${n}`, `after syncfs ${n} of a checkpoint, before the batch was recorded`);
  };
}
