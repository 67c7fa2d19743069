// Reconcile after a base update, per upper entry, against a find walk of the upper plus an lstat of
// each entry's counterpart in the base. Three upper sizes; the figure is the marginal cost per entry
// (slope from the smallest to the largest upper), so fixed costs (start-up, reading the manifest)
// neither hide nor inflate the per-entry work. Per-size totals are listed beside it.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { writeB0 } from '../b0.js';
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import type { Generated } from '../generate.js';
import type { UpperPlan } from '../upper-plan.js';
import { upperWalk } from '../floors.js';
import { inChild, median, paired } from '../measure.js';
import { cli, resetState, scratchOf, ship, type Scratch } from '../overlay.js';

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
  /** The same reconcile with --dry-run: reading the upper, the manifest and the base, and planning. */
  readonly plan: number[];
  readonly note: string;
}

async function measureSize(ctx: BenchContext, s: Scratch, manifest: string, u: Generated<UpperPlan>): Promise<Sized> {
  const n = u.plan.entries.length;
  const upperDir = u.dir;
  const scratch = path.join(ctx.work, 'scratch');
  fs.mkdirSync(scratch, { recursive: true });
  const b0 = path.join(scratch, `b0-${n}.manifest`);
  const log = path.join(scratch, `reconcile-${n}.log`);
  const sum = writeB0(manifest, u.plan, b0);
  let detail: Record<string, unknown> = {};
  await prepare(s, b0, manifest, upperDir);
  const dry = await paired(Math.min(ctx.reps, 3), async () => (await inChild('reconcile', [s.root, s.name, '--dry-run'], { stderrFile: log })).ms, () => upperWalk(upperDir, s.base));
  // A reconcile of 100k entries takes minutes where fsync is slow: fewer runs for the largest uppers.
  const runs = Math.max(1, Math.min(ctx.reps, 3, Math.floor(30_000 / n)));
  const samples = await paired(
    runs,
    async () => {
      const r = await inChild('reconcile', [s.root, s.name], { stderrFile: log });
      if (r.detail.upToDate !== false || r.detail.actions === 0) throw new Error(`reconcile of the ${n}-entry upper did nothing: ${JSON.stringify(r.detail)}`);
      detail = r.detail;
      return r.ms;
    },
    () => upperWalk(upperDir, s.base),
    () => prepare(s, b0, manifest, upperDir),
    // prepare() reads the whole upper and the run before it the base: both are warm already.
    { warmProduct: false },
  );
  fs.rmSync(b0, { force: true });
  const note = `${runs} run(s); base update changed ${sum.changed}, added ${sum.added}, removed ${sum.removed} entries; ` +
    `${String(detail.actions)} actions, ${String(detail.dropped)} dropped, ${String(detail.kept)} kept`;
  return { entries: n, ...samples, plan: dry.value, note };
}

export async function reconcileFigures(ctx: BenchContext, manifest: string): Promise<Figure[]> {
  const s = scratchOf(ctx.base.dir);
  const sized: Sized[] = [];
  try {
    for (const u of ctx.uppers) {
      ctx.progress(`reconcile, upper of ${u.plan.entries.length} entries`);
      sized.push(await measureSize(ctx, s, manifest, u));
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
      note: z.note,
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
  const plan = figure({
    name: 'reconcile-plan',
    label: 'of which planning (`--dry-run`), per entry',
    floorLabel: 'same for the floor',
    unit: 'µs/entry',
    target: null,
    samples: { value: [perEntry(lo.plan, hi.plan)], floor: [perEntry(lo.floor, hi.floor)] },
  });
  return [slope, plan, ...rows];
}
