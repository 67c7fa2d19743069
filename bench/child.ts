// Runs one product operation, in-process, and prints {ms, maxRssKb, detail} as its last line.
// A separate process per run so each peak RSS belongs to that operation alone.
import fs from 'node:fs';
import { buildManifest } from '../src/manifest/build.js';
import { createContext } from '../src/cli/context.js';
import { treeGeneration } from '../src/observe/generation.js';
import { reconcileOverlay } from '../src/ops/reconcile.js';

type Op = (args: readonly string[]) => Promise<Record<string, unknown>> | Record<string, unknown>;

const ops: Record<string, Op> = {
  tree: ([base]) => ({ generation: treeGeneration(need(base, 'BASE')) }),
  'plain-walk': ([base]) => ({ entries: plainWalk(Buffer.from(need(base, 'BASE'))) }),
  // Logs at info, as under systemd: one record per dropped or kept path is part of the cost.
  reconcile: async ([root, name, dry]) => {
    const ctx = createContext({ root: need(root, 'ROOT') });
    const r = await reconcileOverlay(ctx.overlay(need(name, 'NAME')), ctx.log, { dryRun: dry === '--dry-run' });
    return { upToDate: r.upToDate, actions: r.actions, dropped: r.dropped, kept: r.kept, conflicts: r.conflicts };
  },
  index: async ([base, out, previous]) => ({ ...(await buildManifest(need(base, 'BASE'), need(out, 'OUT'), previous ? { previous } : {})) }),
};

/** readdirSync + lstatSync by whole path, depth first: the least a stat walk costs in Node. */
function plainWalk(root: Buffer): number {
  let n = 0;
  const stack = [root];
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' })) {
      const p = Buffer.concat([dir, SLASH, name]);
      n++;
      if (fs.lstatSync(p, { bigint: true }).isDirectory()) stack.push(p);
    }
  }
  return n;
}
const SLASH = Buffer.from('/');

/**
 * This process's own peak resident set in KiB: VmHWM of /proc/self/status, the high-water mark of its
 * own memory. Not resourceUsage().maxRSS: Linux carries ru_maxrss across execve, so a child's starts
 * at the RSS of the process it was forked from (the bench itself, 150 MiB and more by the last figures).
 */
function peakRssKb(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (m === null) throw new Error('/proc/self/status: no VmHWM line');
  return Number(m[1]);
}

function need(v: string | undefined, what: string): string {
  if (v === undefined || v === '') throw new Error(`missing ${what}`);
  return v;
}

const [op, ...args] = process.argv.slice(2);
const fn = ops[op ?? ''];
if (!fn) {
  process.stderr.write(`usage: child.js ${Object.keys(ops).join('|')} ARGS…\n`);
  process.exit(2);
}
const t0 = performance.now();
const detail = await fn(args);
const ms = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ ms, maxRssKb: peakRssKb(), detail })}\n`);
