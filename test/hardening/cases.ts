// A hardening case on a scratch overlay: base v1 recorded as generation gen1, an upper, then base v2;
// reconciled in-process (or by the caller), checked for losses, and re-run to prove it converged.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay, type ReconcileReport } from '../../src/ops/reconcile.js';
import { scratchOverlay, writeTree, type Scratch, type Spec } from '../ops/scratch.js';
import { assertNothingLost, snapshotUpper } from './harness.js';
import type { Category } from './summary.js';

export type Tree = Record<string, Spec>;
type Config = Parameters<typeof scratchOverlay>[1];

export interface CaseSpec {
  readonly name: string;
  readonly config?: Config;
  /** Base v1 (recorded as gen1). */
  readonly v1: (base: string) => Promise<void> | void;
  readonly upper: (upper: string, s: Scratch) => Promise<void> | void;
  /** Changes that make base v2. */
  readonly v2: (base: string) => Promise<void> | void;
}

export const tree = (t: Tree) => (dir: string) => writeTree(dir, t);

/** Builds the case under root: returns the scratch overlay and the snapshot of its upper before any run. */
export async function buildCase(root: string, c: CaseSpec): Promise<{ s: Scratch; original: Map<string, string> }> {
  const s = scratchOverlay(root, c.config ?? {});
  fs.mkdirSync(s.ov.base, { recursive: true });
  await c.v1(s.ov.base);
  await s.record('gen1');
  fs.mkdirSync(s.ov.layout.upper, { recursive: true });
  await c.upper(s.ov.layout.upper, s);
  await c.v2(s.ov.base);
  return { s, original: snapshotUpper(s.ov.layout) };
}

/** count files under bin/ edited in the upper and changed by the update, plus one pure state file. */
export function smallCase(name: string, count: number): CaseSpec {
  const files = (v: string) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`bin/f${i}`, `f${i} ${v}\n`]));
  return { name, v1: tree(files('v1')), upper: tree({ ...files('edited'), 'data/db': 'state\n' }), v2: tree(files('v2')) };
}

/** buildCase in root, with a config file /etc/state-overlay/opt.conf when conf is given (for CLI runs). */
export async function buildCliCase(root: string, c: CaseSpec, conf = ''): Promise<{ s: Scratch; original: Map<string, string>; root: string }> {
  const built = await buildCase(root, c);
  if (conf) {
    fs.mkdirSync(path.join(root, 'etc/state-overlay'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/state-overlay/opt.conf'), conf);
  }
  return { ...built, root };
}

/** Reconciles to gen2, checks nothing was lost and that a second run has nothing left to do. */
export async function reconcileCase(category: Category, c: CaseSpec, s: Scratch, original: Map<string, string>): Promise<ReconcileReport> {
  const report = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
  expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
  assertNothingLost(category, c.name, s.ov.layout, original);
  const again = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
  expect(again.upToDate).toBe(true);
  return report;
}

/** Actions of a plan as "kind rule path" lines (paths as binary strings). */
export const actionsOf = (r: ReconcileReport): string[] => r.plan.actions.map((a) => `${a.kind} ${a.rule} ${a.path}`);
