// `npm run bench`: generates (or reuses) the trees, measures every figure against its floor, prints
// the table, optionally writes JSON. Warm page cache but for the cold `run` row: each floor and
// figure gets an untimed warm-up, so the figures compare CPU and syscall work, not the disk.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { execa } from 'execa';
import type { BenchContext, Figure } from './figure.js';
import { generateBase, generateUpper } from './generate.js';
import { inChild } from './measure.js';
import { unmountUnder } from './mounts.js';
import { loadNow, machine, renderNotes, renderTable, writeJson } from './report.js';
import { figures } from './figures/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** bench/.work, from the compiled file at bench/.work/build/bench/run.js. */
const DEFAULT_WORK = path.resolve(here, '../..');
// The build of src/ under bench/.work/build loads the project's addon as src/ does, from ../../native:
// the repository's native/ (npm run build compiles it), linked beside that build.
const NATIVE = path.resolve(here, '../native');
if (!fs.existsSync(NATIVE)) fs.symlinkSync(path.resolve(here, '../../../../native'), NATIVE);

interface Options {
  quick: boolean;
  json?: string;
  reps?: string;
  only?: string;
  work: string;
}

const opts = new Command('bench')
  .description('Measure state-overlay against floors measured in the same run (DESIGN section 10)')
  .option('--quick', 'a tenth of the size (20k-entry base)', false)
  .option('--json <path>', 'also write the figures as JSON')
  .option('--reps <n>', 'runs per figure, medians reported (default 5, 3 with --quick; reconcile at most 3)')
  .option('--only <names>', 'comma-separated figure names')
  .option('--work <dir>', 'where generated trees are cached', DEFAULT_WORK)
  .parse()
  .opts<Options>();

const reps = Number(opts.reps ?? (opts.quick ? 3 : 5));
if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps ${opts.reps}: expected a positive integer`);
if (process.getuid?.() !== 0) throw new Error('bench: must run as root (it mounts overlays)');
const scale = opts.quick ? 10 : 1;
const work = path.resolve(opts.work);
const t0 = performance.now();
const loadAtStart = loadNow();
const progress = (msg: string): void => void process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);

fs.mkdirSync(work, { recursive: true });
await unmountUnder(work);
const baseParams = { entries: 200_000 / scale, bytes: 2_000_000_000 / scale, seed: 1 };
progress(`base: ${baseParams.entries} entries, ${baseParams.bytes / 1e6} MB`);
const base = await generateBase(work, baseParams);
if (base.fresh) progress(`base written in ${(base.ms / 1000).toFixed(1)} s`);
const small = await generateBase(work, { ...baseParams, entries: baseParams.entries / 10, bytes: baseParams.bytes / 10 });
const uppers = [];
for (const entries of [1000, 10_000, 100_000].map((n) => n / scale)) {
  const u = await generateUpper(work, base.plan, { entries, seed: 2 });
  if (u.fresh) progress(`upper of ${entries} entries written in ${(u.ms / 1000).toFixed(1)} s`);
  uppers.push(u);
}
// Trees just written are dirty in the page cache, and the kernel writes them back over the next minute or
// so, beside whatever is measured then: written back first, untimed.
if (base.fresh || small.fresh || uppers.some((u) => u.fresh)) {
  const t = performance.now();
  await execa('sync');
  progress(`trees written back (sync) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
let current: Promise<string> | undefined;
const manifest = (): Promise<string> =>
  (current ??= (async () => {
    const file = path.join(work, 'scratch', 'current.manifest');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    progress('indexing the base for the shipped manifest');
    await inChild('index', [base.dir, file]);
    return file;
  })());
const chosen = opts.only?.split(',') ?? null;
const results: Figure[] = [];
const failures: string[] = [];
const fail = (msg: string): void => {
  failures.push(msg);
  progress(`FAILED ${msg}`);
};
const ctx: BenchContext = { work, reps, base, small, uppers, progress, manifest, fail };
try {
  for (const f of figures) {
    if (chosen && !chosen.some((c) => f.names.includes(c))) continue;
    try {
      results.push(...(await f.run(ctx)));
    } catch (err) {
      failures.push(`${f.names.join(', ')}: ${(err as Error).message}`);
      progress(`FAILED ${f.names.join(', ')}: ${(err as Error).stack ?? String(err)}`);
    }
  }
} finally {
  await unmountUnder(work);
  fs.rmSync(path.join(work, 'scratch'), { recursive: true, force: true });
}

const info = {
  machine: machine(),
  quick: opts.quick,
  baseEntries: baseParams.entries,
  baseBytes: base.plan.bytes,
  reps,
  totalSeconds: Math.round((performance.now() - t0) / 1000),
  load: [loadAtStart, loadNow()] as const,
};
process.stdout.write(`\n${renderTable(results)}\n\n${renderNotes(results)}\n\n`);
process.stdout.write(
  `Base: ${info.baseEntries} entries, ${(info.baseBytes / 1e9).toFixed(2)} GB; uppers of ${uppers.map((u) => u.plan.entries.length).join(', ')} entries; ` +
    `medians of ${reps} runs, warm page cache; ${info.totalSeconds} s in all; load average ${info.load[0]} at start, ${info.load[1]} at end.\nMachine: ${info.machine}\n`,
);
if (opts.json) writeJson(opts.json, results, info);
for (const f of failures) process.stderr.write(`bench: ${f}\n`);
process.exitCode = failures.length > 0 ? 1 : 0;
