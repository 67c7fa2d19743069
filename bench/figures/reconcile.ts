// Reconcile after a base update (in process, Node start-up excluded), against its two anchors on the
// same inputs, sampled in turn: ostree's own prune (bench/c/ostree-prune.c, on a fresh copy of the
// upper, against the same base) and the crash-safe floor (bench/c/crash-safe-floor.c: the product's
// own plan for that upper, executed with renames into the backup set, one syncfs and the journal's
// fsyncs). Three upper sizes; per-entry cost of the largest against the middle one (linear); and a
// small upper over a base a tenth the size (time and memory must not grow with the base).
// `Reconcile=all` must drop exactly what ostree's prune deletes: checked on every size.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { buildAnchors, crashSafeFloor, differences, droppedPaths, ostreePrune, readPruneList, writeFloorPlan, type Anchors, type JsonAction } from '../anchors.js';
import { writeB0 } from '../b0.js';
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { generateUpper, type Generated } from '../generate.js';
import type { UpperPlan } from '../upper-plan.js';
import { upperWalk } from '../floors.js';
import { inChild, median } from '../measure.js';
import { cli, cliJson, configFile, resetState, scratchOf, ship, type Scratch } from '../overlay.js';

/**
 * Brings the overlay to "adopted B0, this upper, base now B1", unmounted: what a boot into a new image
 * finds. B0 is adopted over the live base, which is B1 already: `--force`, as the base lacks what B0
 * alone lists (the first records of a shipped manifest are checked against the base).
 */
async function prepare(s: Scratch, b0: string, b1: string, upper: string): Promise<void> {
  await resetState(s);
  ship(s, b0);
  await cli(s, ['run', s.name, '--force']);
  await cli(s, ['unmount', s.name]);
  fs.rmSync(s.upper, { recursive: true, force: true });
  // cp -a keeps modes, owners, hard links (shared whiteout inodes) and trusted.overlay.* xattrs.
  await execa('cp', ['-a', upper, s.upper]);
  ship(s, b1);
}

/** The plan `reconcile --dry-run --json` prints for the prepared overlay, under the Reconcile= mode given. */
async function planOf(s: Scratch, mode: 'changed' | 'all'): Promise<JsonAction[]> {
  const conf = configFile(s);
  fs.mkdirSync(path.dirname(conf), { recursive: true });
  fs.writeFileSync(conf, `[Overlay]\nReconcile=${mode}\n`);
  try {
    return (await cliJson<{ actions: JsonAction[] }>(s, ['reconcile', s.name, '--dry-run'])).actions;
  } finally {
    fs.rmSync(conf, { force: true });
  }
}

interface Sized {
  readonly entries: number;
  readonly value: number[];
  readonly rssMiB: number[];
  readonly prune: number[];
  readonly floor: number[];
  /** The same reconcile with --dry-run: reading the upper, the manifests and the base, and planning. */
  readonly plan: number[];
  readonly walk: number[];
  readonly note: string;
}

async function measureSize(ctx: BenchContext, anchors: Anchors, s: Scratch, manifest: string, u: Generated<UpperPlan>): Promise<Sized> {
  const n = u.plan.entries.length;
  const scratch = path.join(ctx.work, 'scratch');
  fs.mkdirSync(scratch, { recursive: true });
  const b0 = path.join(scratch, `b0-${n}.manifest`);
  const log = path.join(scratch, `reconcile-${n}.log`);
  const planFile = path.join(scratch, `floor-${n}.plan`);
  const pruned = path.join(scratch, `pruned-${n}.list`);
  const pruneUpper = path.join(scratch, 'prune-upper');
  const sum = writeB0(manifest, u.plan, b0);
  const freshCopy = async (): Promise<void> => {
    fs.rmSync(pruneUpper, { recursive: true, force: true });
    await execa('cp', ['-a', u.dir, pruneUpper]);
  };
  const floorDirs = { base: s.base, upper: s.upper, set: path.join(s.stateDir, 'floor-backups'), journal: path.join(s.stateDir, 'floor.journal') };

  await prepare(s, b0, manifest, u.dir);
  const steps = writeFloorPlan(await planOf(s, 'changed'), planFile);
  const all = droppedPaths(await planOf(s, 'all'));
  // The untimed warm-up of the prune, on the same inputs, is the one that lists what it deleted.
  await freshCopy();
  await ostreePrune(anchors, s.base, pruneUpper, pruned);
  const differ = differences(readPruneList(pruned), all);
  if (differ !== null) ctx.fail(`reconcile, upper of ${n} entries: ${differ}`);
  await crashSafeFloor(anchors, planFile, floorDirs);

  // A reconcile of 100k entries takes minutes where fsync is slow: fewer runs for the largest uppers.
  const runs = Math.max(1, Math.min(ctx.reps, 3, Math.floor(30_000 / n)));
  const z = { value: [] as number[], rssMiB: [] as number[], prune: [] as number[], floor: [] as number[], plan: [] as number[], walk: [] as number[] };
  let detail: Record<string, unknown> = {};
  for (let i = 0; i < runs; i++) {
    await freshCopy();
    z.prune.push((await ostreePrune(anchors, s.base, pruneUpper)).ms);
    z.walk.push(await upperWalk(u.dir, s.base));
    await prepare(s, b0, manifest, u.dir);
    z.plan.push((await inChild('reconcile', [s.root, s.name, '--dry-run'], { stderrFile: log })).ms);
    const r = await inChild('reconcile', [s.root, s.name], { stderrFile: log });
    if (r.detail.upToDate !== false || r.detail.actions === 0) throw new Error(`reconcile of the ${n}-entry upper did nothing: ${JSON.stringify(r.detail)}`);
    detail = r.detail;
    z.value.push(r.ms);
    z.rssMiB.push(r.maxRssKb / 1024);
    await prepare(s, b0, manifest, u.dir);
    z.floor.push((await crashSafeFloor(anchors, planFile, floorDirs)).ms);
  }
  fs.rmSync(pruneUpper, { recursive: true, force: true });
  fs.rmSync(b0, { force: true });
  const note =
    `${runs} run(s); base update changed ${sum.changed}, added ${sum.added}, removed ${sum.removed} entries; ` +
    `${String(detail.actions)} actions, ${String(detail.dropped)} dropped, ${String(detail.kept)} kept (${steps} steps for the floor); ` +
    `Reconcile=all drops ${all.length} paths, ${differ === null ? 'exactly those ostree prunes' : 'NOT those ostree prunes'}; peak RSS ${median(z.rssMiB).toFixed(0)} MiB`;
  return { entries: n, ...z, note };
}

/** The targets by upper (1k, 10k, 100k; a tenth with --quick). */
const PRUNE_TARGET = [3, 2, null] as const;
const FLOOR_TARGET = [null, 2.5, null] as const;

function sizedRows(z: Sized, i: number): Figure[] {
  const of = `upper of ${z.entries} entries`;
  const prune = 'ostree prune (C), same upper and base';
  return [
    figure({ name: `reconcile-${z.entries}`, label: `reconcile, ${of} (total, in process)`, floorLabel: prune, unit: 'ms', target: PRUNE_TARGET[i] ?? null, samples: { value: z.value, floor: z.prune }, note: z.note }),
    figure({ name: `reconcile-${z.entries}-floor`, label: `reconcile, ${of}`, floorLabel: 'crash-safe floor (C): its plan, renames, one syncfs, journal fsyncs', unit: 'ms', target: FLOOR_TARGET[i] ?? null, samples: { value: z.value, floor: z.floor } }),
    figure({ name: `reconcile-${z.entries}-plan`, label: `of which planning (\`--dry-run\`), ${of}`, floorLabel: prune, unit: 'ms', target: null, samples: { value: z.plan, floor: z.prune } }),
    figure({ name: `ostree-prune-${z.entries}`, label: `anchor: ostree prune (C), ${of}`, floorLabel: 'find UPPER + lstat of each counterpart', unit: 'ms', target: null, samples: { value: z.prune, floor: z.walk } }),
    figure({ name: `crash-safe-floor-${z.entries}`, label: `anchor: crash-safe floor (C), ${of}`, floorLabel: 'ostree prune (C)', unit: 'ms', target: null, samples: { value: z.floor, floor: z.prune } }),
  ];
}

/**
 * The smallest upper over the main base against an upper of the same size and shape over a base a
 * tenth the size (its own manifest and B0), sampled in turn: time and peak RSS.
 */
async function baseIndependence(ctx: BenchContext, manifest: string, large: Generated<UpperPlan>): Promise<Figure[]> {
  const entries = large.plan.params.entries;
  ctx.progress(`reconcile, upper of ${entries} entries over the ${ctx.small.plan.params.entries}-entry base`);
  const smallUpper = await generateUpper(ctx.work, ctx.small.plan, { entries, seed: 2 });
  const scratch = path.join(ctx.work, 'scratch');
  const smallManifest = path.join(scratch, 'small.manifest');
  await inChild('index', [ctx.small.dir, smallManifest]);
  const sides = [
    { s: scratchOf(ctx.small.dir), b1: smallManifest, u: smallUpper, b0: path.join(scratch, 'b0-small.manifest') },
    { s: scratchOf(ctx.base.dir), b1: manifest, u: large, b0: path.join(scratch, 'b0-large.manifest') },
  ];
  for (const side of sides) writeB0(side.b1, side.u.plan, side.b0);
  const ms = [[], []] as [number[], number[]];
  const rss = [[], []] as [number[], number[]];
  try {
    for (let i = 0; i <= ctx.reps; i++) {
      for (const [k, side] of sides.entries()) {
        await prepare(side.s, side.b0, side.b1, side.u.dir);
        const r = await inChild('reconcile', [side.s.root, side.s.name], { stderrFile: path.join(scratch, 'reconcile-base.log') });
        // The first round warms both sides.
        if (i === 0) continue;
        ms[k]?.push(r.ms);
        rss[k]?.push(r.maxRssKb / 1024);
      }
    }
  } finally {
    for (const side of sides) await resetState(side.s);
  }
  const label = `reconcile, upper of ${entries} entries over the ${ctx.base.plan.params.entries / 1000}k base`;
  const floorLabel = `same-size upper over the ${ctx.small.plan.params.entries / 1000}k base`;
  return [
    figure({ name: 'reconcile-base-time', label: `${label}: time`, floorLabel, unit: 'ms', target: 1.3, samples: { value: ms[1], floor: ms[0] } }),
    figure({ name: 'reconcile-base-rss', label: `${label}: peak RSS`, floorLabel, unit: 'MiB', target: 1.3, samples: { value: rss[1], floor: rss[0] } }),
  ];
}

export async function reconcileFigures(ctx: BenchContext, manifest: string): Promise<Figure[]> {
  const anchors = await buildAnchors(ctx.work);
  const s = scratchOf(ctx.base.dir);
  const sized: Sized[] = [];
  try {
    for (const u of ctx.uppers) {
      ctx.progress(`reconcile, upper of ${u.plan.entries.length} entries`);
      sized.push(await measureSize(ctx, anchors, s, manifest, u));
    }
  } finally {
    await resetState(s);
  }
  const rows = sized.flatMap(sizedRows);
  const mid = sized[1];
  const hi = sized[2];
  if (mid && hi) {
    const perEntry = (z: Sized): number[] => [(median(z.value) / z.entries) * 1000];
    rows.push(
      figure({
        name: 'reconcile-linear',
        label: `reconcile per upper entry, ${hi.entries}-entry upper`,
        floorLabel: `same, ${mid.entries}-entry upper`,
        unit: 'µs/entry',
        target: 1.3,
        samples: { value: perEntry(hi), floor: perEntry(mid) },
      }),
    );
  }
  const first = ctx.uppers[0];
  if (first) rows.push(...(await baseIndependence(ctx, manifest, first)));
  return rows;
}
