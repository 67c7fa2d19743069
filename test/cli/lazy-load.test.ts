// What a command loads: each command's code (and each optional dependency) is loaded only when used,
// so the service's `run` on an unchanged base starts without the rest of the program.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, makeScratch, type Scratch } from '../mount/scratch.js';

let s: Scratch;
beforeEach(() => {
  s = makeScratch();
});
afterEach(() => s.cleanup());

/** The dist/ modules and packages a CLI run loaded, from Node's own module debug log. */
async function loaded(args: readonly string[]): Promise<{ ours: string[]; packages: string[] }> {
  const r = await cli(s.root, ['-q', ...args], { NODE_DEBUG: 'esm,module', INVOCATION_ID: '', JOURNAL_STREAM: '', NOTIFY_SOCKET: '' });
  expect(r.exitCode).toBe(0);
  const ours = new Set([...r.stderr.matchAll(/\/dist\/([\w/-]+\.js)/g)].map((m) => m[1]!));
  const packages = new Set([...r.stderr.matchAll(/\/node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\//g)].map((m) => m[1]!));
  return { ours: [...ours].sort(), packages: [...packages].sort() };
}

describe('lazy loading', () => {
  it('run on an unchanged base (shipped manifest) loads neither the reconcile, the indexer nor the optional packages', async () => {
    fs.mkdirSync(path.join(s.root, 'usr/lib/state-overlay'), { recursive: true });
    expect((await cli(s.root, ['-q', 'index', 'opt', '--ship'])).exitCode).toBe(0);
    // The first run adopts the base (a reconcile); the second finds it unchanged.
    expect((await cli(s.root, ['-q', 'run', 'opt'])).exitCode).toBe(0);
    expect((await cli(s.root, ['-q', 'unmount', 'opt'])).exitCode).toBe(0);
    const { ours, packages } = await loaded(['run', 'opt']);
    // What the run needs is seen: the log is read right.
    expect(ours).toEqual(expect.arrayContaining(['ops/run.js', 'mount/overlay.js', 'observe/generation.js']));
    expect(packages).toEqual(expect.arrayContaining(['commander', 'pino']));
    expect(ours.filter((m) => /^(plan\/|txn\/(?!journal\.js|session\.js|safe-paths\.js)|observe\/(inputs|probe|digests|conffiles|upper)|ops\/(reconcile|vacuum|restore|status|index|diff)|manifest\/build|backups\/)/.test(m))).toEqual([]);
    expect(packages.filter((p) => ['execa', 'pino-pretty', 'cli-progress', 'chokidar', 'picomatch'].includes(p))).toEqual([]);
  });

  it('--help loads no command implementation', async () => {
    const { ours } = await loaded(['--help']);
    expect(ours).toEqual(expect.arrayContaining(['cli/program.js', 'cli/commands/run.js']));
    expect(ours.filter((m) => /^(ops|mount|plan|txn|observe|manifest|backups|state)\//.test(m))).toEqual([]);
  });
});
