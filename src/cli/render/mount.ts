// What run, mount and unmount did, for people (one line) and for machines (JSON).
import type { RunResult } from '../../ops/run.js';
import { document } from './json.js';

/** A mount or unmount: the overlay, where, and whether this command changed anything. */
export interface MountChange {
  readonly name: string;
  readonly target: string;
  readonly changed: boolean;
}

export const runJson = (r: RunResult) => document('RunReport', r);

export function runText(r: RunResult, target: string): string {
  const what = r.changed ? `mounted ${r.name} on ${target}` : `${r.name} was already mounted on ${target}`;
  const parts = [what, r.reconciled ? 'after a reconcile' : '', r.deferred ? 'base change deferred' : '', `generation ${r.generation}`];
  return parts.filter(Boolean).join('; ');
}

export const mountJson = (m: MountChange) => document('MountReport', { name: m.name, target: m.target, mounted: true, changed: m.changed });

export const mountText = (m: MountChange): string => (m.changed ? `mounted ${m.name} on ${m.target}` : `${m.name} is already mounted on ${m.target}`);

export const unmountJson = (m: MountChange) => document('UnmountReport', { name: m.name, target: m.target, mounted: false, changed: m.changed });

export const unmountText = (m: MountChange): string => (m.changed ? `unmounted ${m.name} from ${m.target}` : `${m.name} is not mounted on ${m.target}`);
