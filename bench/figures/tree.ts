// `tree` generation: one stat walk of the base, against find printing one stat line per entry.
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { findStat } from '../floors.js';
import { inChild, paired } from '../measure.js';

export async function treeFigures(ctx: BenchContext): Promise<Figure[]> {
  const base = ctx.base.dir;
  ctx.progress('tree walk');
  const floorLabel = "find BASE -printf '%s %m %U\\n'";
  const samples = await paired(ctx.reps, async () => (await inChild('tree', [base])).ms, () => findStat(base));
  // Node's own floor, to inform: readdirSync + lstatSync by whole path, which is what a walk costs in
  // Node before any safety (it would follow a directory swapped for a symlink) or any hashing.
  const plain = await paired(ctx.reps, async () => (await inChild('plain-walk', [base])).ms, () => findStat(base));
  return [
    figure({ name: 'tree-walk', label: '`tree` generation walk', floorLabel, unit: 'ms', target: 1.3, samples }),
    figure({ name: 'tree-walk-node-floor', label: 'a bare Node walk (readdirSync + lstatSync by path)', floorLabel, unit: 'ms', target: null, samples: plain }),
  ];
}
