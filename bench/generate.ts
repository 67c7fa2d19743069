// Generated trees, cached under bench/.work keyed by their parameters: a tree is written once,
// then reused by every run until its parameters or the generator version change.
import fs from 'node:fs';
import path from 'node:path';
import { planBase, type BaseParams, type BasePlan } from './base-plan.js';
import { planUpper, type UpperParams, type UpperPlan } from './upper-plan.js';
import { writeBase } from './write-base.js';
import { writeUpper } from './write-upper.js';

/** Bump when the shape of generated trees changes: old caches are then ignored. */
export const GENERATOR_VERSION = 1;

export interface Generated<P> {
  readonly plan: P;
  /** The tree's root directory: `opt` under its cache dir, so the cache dir serves as a --root with NAME opt. */
  readonly dir: string;
  /** Whether it was written now (false: reused from the cache). */
  readonly fresh: boolean;
  readonly ms: number;
}

export const baseKey = (p: BaseParams): string => `base-v${GENERATOR_VERSION}-e${p.entries}-b${p.bytes}-s${p.seed}`;
export const upperKey = (b: BaseParams, u: UpperParams): string => `${baseKey(b)}-upper-e${u.entries}-s${u.seed}`;

async function cached<P>(work: string, key: string, plan: P, write: (dir: string) => Promise<void> | void): Promise<Generated<P>> {
  const home = path.join(work, key);
  const dir = path.join(home, 'opt');
  const done = path.join(home, 'complete');
  const t0 = performance.now();
  if (fs.existsSync(done)) return { plan, dir, fresh: false, ms: 0 };
  // A half-written tree (interrupted run) is discarded, never trusted.
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  await write(dir);
  fs.writeFileSync(done, `${new Date().toISOString()}\n`);
  return { plan, dir, fresh: true, ms: performance.now() - t0 };
}

export function generateBase(work: string, params: BaseParams): Promise<Generated<BasePlan>> {
  const plan = planBase(params);
  return cached(work, baseKey(params), plan, (dir) => writeBase(dir, plan));
}

export function generateUpper(work: string, base: BasePlan, params: UpperParams): Promise<Generated<UpperPlan>> {
  const plan = planUpper(base, params);
  const key = upperKey(base.params, params);
  return cached(work, key, plan, (dir) => writeUpper(dir, plan, path.join(work, key, 'scratch')));
}
