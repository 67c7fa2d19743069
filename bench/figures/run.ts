// Unchanged-base `run` with a shipped manifest (no walk of the base, Node start-up included),
// against `node -e 0` plus a bare mount and unmount of the same overlay.
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { bareMount, nodeStart } from '../floors.js';
import { paired } from '../measure.js';
import { cli, resetState, ship, scratchOf } from '../overlay.js';

export async function runFigure(ctx: BenchContext, manifest: string): Promise<Figure> {
  const s = scratchOf(ctx.base.dir);
  ctx.progress('unchanged-base run');
  await resetState(s);
  ship(s, manifest);
  try {
    // The first run adopts the base (records its generation); every later one finds it unchanged.
    await cli(s, ['run', s.name]);
    await cli(s, ['unmount', s.name]);
    const samples = await paired(
      ctx.reps,
      async () => {
        const ms = await cli(s, ['run', s.name]);
        await cli(s, ['unmount', s.name]);
        return ms;
      },
      async () => (await nodeStart()) + (await bareMount({ lower: s.base, upper: s.upper, work: s.work, target: s.base })),
    );
    return figure({
      name: 'run',
      label: 'unchanged-base `run` (shipped manifest)',
      floorLabel: '`node -e 0` + bare mount/umount',
      unit: 'ms',
      target: 1.5,
      samples,
    });
  } finally {
    await resetState(s);
  }
}
