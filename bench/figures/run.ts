// Unchanged-base `run` with a shipped manifest (no walk of the base, Node start-up included),
// against `node -e 0` plus a bare mount and unmount of the same overlay. Timed for the installed
// single executable (what the unit starts) and the bundle for a system Node, with a warm page cache and
// with caches dropped before each sample of either side (a boot's first start), and, to inform, the
// unbundled build.
//
// Like for like: each side starts Node once, mounts the overlay once and unmounts it. The product's
// mounts (the overlay, then its private base bind) are taken down by one bare umount(8) process, as
// the floor's one mount is, not with `state-overlay unmount`: that would add a second Node start-up
// (and the unmount command's own work) to the product side only, measuring the unmount command too.
// Between samples the overlay's directory under /run is removed, untimed, as a boot finds it (a tmpfs,
// empty): left in place, the record of the mount taken down by hand would send every sample through the
// search for processes still holding a detached overlay, which a boot never makes.
import fs from 'node:fs';
import { bundledProgram, seaProgram } from '../bundle.js';
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { bareMount, bareUmount, nodeStart } from '../floors.js';
import { paired } from '../measure.js';
import { cli, MAIN, resetState, ship, scratchOf, type Scratch } from '../overlay.js';

/** Page cache, dentries and inodes dropped (after a sync), untimed: what the next sample reads comes from the disk. */
function dropCaches(): void {
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

async function timeRun(ctx: BenchContext, s: Scratch, program: string, cold = false): Promise<{ value: number[]; floor: number[] }> {
  const before = cold ? dropCaches : () => undefined;
  return paired(
    ctx.reps,
    async () => {
      before();
      const ms = (await cli(s, ['run', s.name], program)) + (await bareUmount(s.base, s.baseBind));
      fs.rmSync(s.runDir, { recursive: true, force: true });
      return ms;
    },
    async () => {
      before();
      return (await nodeStart()) + (await bareMount({ lower: s.base, upper: s.upper, work: s.work, target: s.base }));
    },
  );
}

export async function runFigures(ctx: BenchContext, manifest: string): Promise<Figure[]> {
  const s = scratchOf(ctx.base.dir);
  ctx.progress('unchanged-base run');
  const bundle = await bundledProgram(ctx.work);
  const sea = await seaProgram(ctx.work);
  await resetState(s);
  ship(s, manifest);
  try {
    // The first run adopts the base (records its generation); every later one finds it unchanged.
    await cli(s, ['run', s.name]);
    await cli(s, ['unmount', s.name]);
    const floorLabel = '`node -e 0` + bare mount/umount';
    return [
      figure({ name: 'run', label: 'unchanged-base `run` (shipped manifest)', floorLabel, unit: 'ms', target: 1.3, samples: await timeRun(ctx, s, bundle) }),
      figure({ name: 'run-cold', label: 'same, caches dropped before each sample', floorLabel: `${floorLabel}, caches dropped`, unit: 'ms', target: 1.5, samples: await timeRun(ctx, s, bundle, true) }),
      figure({ name: 'run-sea', label: 'same, single executable', floorLabel, unit: 'ms', target: null, samples: await timeRun(ctx, s, sea) }),
      figure({ name: 'run-unbundled', label: 'same, unbundled (tsc output)', floorLabel, unit: 'ms', target: null, samples: await timeRun(ctx, s, MAIN) }),
    ];
  } finally {
    await resetState(s);
  }
}
