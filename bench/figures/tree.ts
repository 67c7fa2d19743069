// `tree` generation: one stat walk of the base, against find printing one stat line per entry.
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { findStat } from '../floors.js';
import { inChild, paired } from '../measure.js';

export async function treeFigure(ctx: BenchContext): Promise<Figure> {
  const base = ctx.base.dir;
  ctx.progress('tree walk');
  const samples = await paired(ctx.reps, async () => (await inChild('tree', [base])).ms, () => findStat(base));
  return figure({
    name: 'tree-walk',
    label: '`tree` generation walk',
    floorLabel: "find BASE -printf '%s %m %U\\n'",
    unit: 'ms',
    target: 2,
    samples,
  });
}
