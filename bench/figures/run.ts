// Unchanged-base `run` with a shipped manifest (no walk of the base, Node start-up included),
// against `node -e 0` plus a bare mount and unmount of the same overlay. Timed for the installed
// bundle (what the unit starts) and, to inform, for the unbundled build.
import { bundledProgram } from '../bundle.js';
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { bareMount, nodeStart } from '../floors.js';
import { paired } from '../measure.js';
import { cli, MAIN, resetState, ship, scratchOf, type Scratch } from '../overlay.js';

async function timeRun(ctx: BenchContext, s: Scratch, program: string): Promise<{ value: number[]; floor: number[] }> {
  return paired(
    ctx.reps,
    async () => {
      const ms = await cli(s, ['run', s.name], program);
      await cli(s, ['unmount', s.name], program);
      return ms;
    },
    async () => (await nodeStart()) + (await bareMount({ lower: s.base, upper: s.upper, work: s.work, target: s.base })),
  );
}

export async function runFigures(ctx: BenchContext, manifest: string): Promise<Figure[]> {
  const s = scratchOf(ctx.base.dir);
  ctx.progress('unchanged-base run');
  const bundle = await bundledProgram(ctx.work);
  await resetState(s);
  ship(s, manifest);
  try {
    // The first run adopts the base (records its generation); every later one finds it unchanged.
    await cli(s, ['run', s.name]);
    await cli(s, ['unmount', s.name]);
    const floorLabel = '`node -e 0` + bare mount/umount';
    return [
      figure({ name: 'run', label: 'unchanged-base `run` (shipped manifest)', floorLabel, unit: 'ms', target: 1.5, samples: await timeRun(ctx, s, bundle) }),
      figure({ name: 'run-unbundled', label: 'same, unbundled (tsc output)', floorLabel, unit: 'ms', target: null, samples: await timeRun(ctx, s, MAIN) }),
    ];
  } finally {
    await resetState(s);
  }
}
