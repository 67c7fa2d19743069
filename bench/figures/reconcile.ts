// Reconcile after a base update, per upper entry, against a find walk of the upper plus an lstat of
// each entry's counterpart in the base. Three upper sizes; the figure is the marginal cost per entry
// (slope from the smallest to the largest upper), so fixed costs (start-up, reading both manifests)
// do not hide or inflate the per-entry work. Per-size totals are listed beside it.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { writeB0 } from '../b0.js';
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { upperWalk } from '../floors.js';
import type { Generated } from '../generate.js';
import { median, paired } from '../measure.js';
import { cli, resetState, scratchOf, ship, type Scratch } from '../overlay.js';
import type { UpperPlan } from '../upper-plan.js';

/** Brings the overlay to "adopted B0, this upper, base now B1", unmounted: what a boot into a new image finds. */
async function prepare(s: Scratch, b0: string, b1: string, upper: string): Promise<void> {
  await resetState(s);
  ship(s, b0);
  await cli(s, ['run', s.name]);
  await cli(s, ['unmount', s.name]);
  fs.rmSync(s.upper, { recursive: true, force: true });
  // cp -a keeps modes, owners, hard links (shared whiteout inodes) and trusted.overlay.* xattrs.
  await execa('cp', ['-a', upper, s.upper]);
  ship(s, b1);
}

interface Sized {
  readonly entries: number;
  readonly value: number[];
  readonly floor: number[];
}

export async function reconcileFigures(ctx: BenchContext, manifest: string): Promise<Figure[]> {
  const s = scratchOf(ctx.base.dir);
  const scratch = path.join(ctx.work, 'scratch');
  fs.mkdirSync(scratch, { recursive: true });
  const sized: Sized[] = [];
  try {
    for (const u of ctx.uppers as readonly Generated<UpperPlan>[]) {
      const n = u.plan.entries.length;
      ctx.progress(`reconcile, upper of ${n} entries`);
      const b0 = path.join(scratch, `b0-${n}.manifest`);
      writeB0(manifest, u.plan, b0);
      const samples = await paired(
        ctx.reps,
        () => cli(s, ['reconcile', s.name]),
        () => upperWalk(u.dir, s.base),
        () => prepare(s, b0, manifest, u.dir),
      );
      sized.push({ entries: n, ...samples });
      fs.rmSync(b0, { force: true });
    }
  } finally {
    await resetState(s);
  }
  const rows = sized.map((z) =>
    figure({
      name: `reconcile-${z.entries}`,
      label: `reconcile, upper of ${z.entries} entries (total)`,
      floorLabel: 'find UPPER + lstat of each counterpart',
      unit: 'ms',
      target: null,
      samples: { value: z.value, floor: z.floor },
    }),
  );
  const lo = sized[0];
  const hi = sized.at(-1);
  if (!lo || !hi || hi === lo) return rows;
  const perEntry = (xs: number[], ys: number[]): number => ((median(ys) - median(xs)) / (hi.entries - lo.entries)) * 1000;
  const slope = figure({
    name: 'reconcile',
    label: `reconcile per upper entry (${lo.entries} → ${hi.entries})`,
    floorLabel: 'same for the floor',
    unit: 'µs/entry',
    target: 2.5,
    samples: { value: [perEntry(lo.value, hi.value)], floor: [perEntry(lo.floor, hi.floor)] },
  });
  return [slope, ...rows];
}
