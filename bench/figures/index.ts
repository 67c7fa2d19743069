// Every figure, in the order the table shows them; each entry names the figures it produces.
import type { BenchContext, Figure } from '../figure.js';
import { treeFigure } from './tree.js';

export interface FigureRunner {
  readonly names: readonly string[];
  run(ctx: BenchContext): Promise<Figure[]>;
}

export const figures: readonly FigureRunner[] = [
  { names: ['tree-walk'], run: async (ctx) => [await treeFigure(ctx)] },
];
