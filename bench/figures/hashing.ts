// Full index (every file hashed) against openssl on both cores, and a re-index after 1% of the
// files changed against a bare stat walk of the base (digests of unchanged inodes are reused, so
// what is left is the walk: no re-index that stats every entry can cost less), sampled in turn.
import fs from 'node:fs';
import path from 'node:path';
import type { PlanEntry } from '../base-plan.js';
import { writeContent } from '../content.js';
import type { BenchContext, Figure } from '../figure.js';
import { figure } from '../figure.js';
import { findStat, opensslAll } from '../floors.js';
import { inChild, paired } from '../measure.js';
import { createRng } from '../rng.js';
import { at } from '../write-base.js';

type PlanFile = PlanEntry & { kind: 'file' };

/** Rewrites 1% of the files (chosen by seed) with other content of the same size. */
function change(dir: string, files: readonly PlanFile[], seed: number): PlanFile[] {
  const rng = createRng(seed);
  const chosen = new Set<PlanFile>();
  while (chosen.size < Math.max(1, Math.round(files.length / 100))) chosen.add(rng.pick(files));
  for (const f of chosen) writeContent(at(dir, f.path), f.path, f.size, 100 + seed, f.mode);
  return [...chosen];
}

/** Puts changed files back to the generated content, so the cached base stays what its key says. */
function restore(dir: string, files: Iterable<PlanFile>): void {
  for (const f of files) writeContent(at(dir, f.path), f.path, f.size, 0, f.mode);
}

export async function hashingFigures(ctx: BenchContext): Promise<Figure[]> {
  const base = ctx.base.dir;
  const out = path.join(ctx.work, 'scratch', 'index');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  ctx.progress('full index');
  const full = path.join(out, 'full.manifest');
  const samples = await paired(ctx.reps, async () => (await inChild('index', [base, full])).ms, () => opensslAll(base));
  const index = figure({
    name: 'index',
    label: 'full index',
    floorLabel: 'find | xargs -P 2 openssl dgst -sha256',
    unit: 'ms',
    target: 0.7,
    samples,
  });

  ctx.progress('re-index after a 1% change');
  const files = ctx.base.plan.entries.filter((e): e is PlanFile => e.kind === 'file');
  const touched = new Set<PlanFile>();
  const again: number[] = [];
  const walks: number[] = [];
  let previous = full;
  let reused = 0;
  try {
    // Both sides warmed first, untimed, as paired() warms every other figure: the full index just before
    // leaves the page cache full of the base's content, and the first re-indexes after it paid for that.
    await findStat(base);
    const warm = path.join(out, 're-warm.manifest');
    await inChild('index', [base, warm, previous]);
    previous = warm;
    for (let i = 0; i < ctx.reps; i++) {
      walks.push(await findStat(base));
      for (const f of change(base, files, i + 1)) touched.add(f);
      const next = path.join(out, `re-${i}.manifest`);
      const r = await inChild('index', [base, next, previous]);
      again.push(r.ms);
      reused = Number(r.detail.reusedDigests);
      previous = next;
    }
  } finally {
    restore(base, touched);
  }
  const hashable = ctx.base.plan.entries.filter((e) => e.kind !== 'dir').length;
  const reindex = figure({
    name: 'reindex',
    label: 're-index after 1% change',
    floorLabel: "find BASE -printf '%s %m %U\\n' (a bare stat walk)",
    unit: 'ms',
    target: 1.2,
    samples: { value: again, floor: walks },
    note: `${reused} digests reused of ${hashable} files and symlinks`,
  });
  fs.rmSync(out, { recursive: true, force: true });
  return [index, reindex];
}
