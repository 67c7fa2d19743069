// Timing and memory primitives: wall time of subprocesses, medians, a node child reporting its own peak RSS.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) throw new Error('median of no samples');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Wall time in ms of one run of argv; fails with the command and its stderr when it exits non-zero. */
export async function timed(file: string, args: readonly string[], opts: Options = {}): Promise<number> {
  const t0 = performance.now();
  await execa(file, args, { stdin: 'ignore', stdout: 'ignore', ...opts });
  return performance.now() - t0;
}

/** Runs `once` n times (after `setup` each time, untimed) and returns the samples. */
export async function repeat(n: number, once: () => Promise<number>, setup?: () => Promise<void> | void): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (setup) await setup();
    out.push(await once());
  }
  return out;
}

/**
 * n samples of the product and of its floor, taken in turn (floor, product, floor, …) after one
 * untimed warm-up of each (of the floor only when the product warms the cache itself or is costly): load from other processes then weighs on both alike.
 */
export async function paired(
  n: number,
  product: () => Promise<number>,
  floor: () => Promise<number>,
  setup?: () => Promise<void> | void,
  opts: { warmProduct?: boolean } = {},
): Promise<{ value: number[]; floor: number[] }> {
  await floor();
  if (opts.warmProduct !== false) {
    if (setup) await setup();
    await product();
  }
  const out = { value: [] as number[], floor: [] as number[] };
  for (let i = 0; i < n; i++) {
    out.floor.push(await floor());
    if (setup) await setup();
    out.value.push(await product());
  }
  return out;
}

export interface ChildResult {
  /** Time spent in the operation itself (Node start-up and module loading excluded). */
  readonly ms: number;
  /** Peak resident set of the whole child process, in KiB. */
  readonly maxRssKb: number;
  readonly detail: Record<string, unknown>;
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');

/** Runs one product operation in a fresh node process (bench/child.ts) so its peak RSS is its own. */
export async function inChild(op: string, args: readonly string[], opts: { stderrFile?: string } = {}): Promise<ChildResult> {
  const stderr = opts.stderrFile === undefined ? 'pipe' : { file: opts.stderrFile };
  const r = await execa(process.execPath, [CHILD, op, ...args], { stdin: 'ignore', stderr }).catch((err: Error) => {
    const tail = opts.stderrFile === undefined ? '' : fs.readFileSync(opts.stderrFile, 'utf8').slice(-2000);
    throw new Error(tail === '' ? err.message : `${err.message}\n${tail}`, { cause: err });
  });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as ChildResult;
  } catch {
    throw new Error(`bench child ${op}: no result line in its output: ${r.stdout.slice(-500)}`);
  }
}
