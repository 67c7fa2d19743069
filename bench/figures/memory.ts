// Peak memory: indexing a base ten times larger must not need much more memory (streaming).
import fs from 'node:fs';
import path from 'node:path';
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { inChild, repeat } from '../measure.js';

async function peakMiB(ctx: BenchContext, base: string): Promise<number[]> {
  const out = path.join(ctx.work, 'scratch', 'memory.manifest');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  try {
    return await repeat(Math.min(ctx.reps, 3), async () => (await inChild('index', [base, out])).maxRssKb / 1024);
  } finally {
    fs.rmSync(out, { force: true });
  }
}

export async function memoryFigure(ctx: BenchContext): Promise<Figure> {
  ctx.progress('peak memory');
  const large = await peakMiB(ctx, ctx.base.dir);
  const small = await peakMiB(ctx, ctx.small.dir);
  return figure({
    name: 'memory',
    label: `index peak RSS, ${ctx.base.plan.params.entries / 1000}k entries`,
    floorLabel: `same at ${ctx.small.plan.params.entries / 1000}k entries`,
    unit: 'MiB',
    target: 1.3,
    samples: { value: large, floor: small },
  });
}
