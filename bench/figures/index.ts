// Every figure, in the order the table shows them; each entry names the figures it produces.
import type { BenchContext, Figure } from '../figure.js';
import { hashingFigures } from './hashing.js';
import { memoryFigure } from './memory.js';
import { reconcileFigures } from './reconcile.js';
import { runFigures } from './run.js';
import { treeFigures } from './tree.js';

export interface FigureRunner {
  readonly names: readonly string[];
  run(ctx: BenchContext): Promise<Figure[]>;
}

export const figures: readonly FigureRunner[] = [
  { names: ['run', 'run-sea', 'run-unbundled'], run: async (ctx) => runFigures(ctx, await ctx.manifest()) },
  { names: ['index', 'reindex'], run: hashingFigures },
  { names: ['tree-walk'], run: treeFigures },
  { names: ['reconcile', 'reconcile-base'], run: async (ctx) => reconcileFigures(ctx, await ctx.manifest()) },
  { names: ['memory'], run: async (ctx) => [await memoryFigure(ctx)] },
];
