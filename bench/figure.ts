// What every figure reports, and the context figures run in.
import type { Generated } from './generate.js';
import type { BasePlan } from './base-plan.js';
import type { UpperPlan } from './upper-plan.js';
import { median } from './measure.js';

export interface Figure {
  /** Key in the JSON output. */
  readonly name: string;
  readonly label: string;
  readonly floorLabel: string;
  /** Median of the product's samples and of the floor's, in `unit`. */
  readonly value: number;
  readonly floor: number;
  readonly unit: 'ms' | 'µs/entry' | 'MiB';
  readonly ratio: number;
  /** The ratio must not exceed this; null for rows that only inform. */
  readonly target: number | null;
  readonly samples: { readonly value: readonly number[]; readonly floor: readonly number[] };
  readonly note?: string;
}

export interface BenchContext {
  /** bench/.work: generated trees and scratch. */
  readonly work: string;
  readonly reps: number;
  /** The main base (200k entries, or 20k with --quick); its cache dir doubles as --root, NAME opt. */
  readonly base: Generated<BasePlan>;
  /** A tenth of the main base, for the memory figure. */
  readonly small: Generated<BasePlan>;
  readonly uppers: readonly Generated<UpperPlan>[];
  readonly progress: (msg: string) => void;
  /** The current base's manifest (B1), built by the product once per run. */
  readonly manifest: () => Promise<string>;
  /** Records a check the run failed (printed at the end, exit code 1) without losing the figures measured. */
  readonly fail: (msg: string) => void;
}

export function figure(f: Omit<Figure, 'value' | 'floor' | 'ratio'>): Figure {
  const value = median(f.samples.value);
  const floor = median(f.samples.floor);
  return { ...f, value, floor, ratio: value / floor };
}

export const passed = (f: Figure): boolean | null => (f.target === null ? null : f.ratio <= f.target);
