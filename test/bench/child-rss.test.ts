// The bench child's peak RSS is its own: a child forked from a large process (the bench, holding its
// trees' plans) reports what it used, not the parent's resident set, which Linux's ru_maxrss carries
// across execve.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTree, scratch } from '../tree/fixtures.js';

const dir = scratch('so-bench-rss-');
afterAll(async () => removeTree(dir));

describe('bench child', () => {
  it("reports its own peak RSS, not the larger parent's it was forked from", () => {
    // Beside the repository's node_modules, so that the dependencies it leaves external resolve.
    const child = path.resolve('node_modules/.cache/state-overlay/bench-child-test.mjs');
    buildSync({ entryPoints: ['bench/child.ts'], bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning', outfile: child });
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'a'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'a/f'), 'x');
    // A parent of 400 MiB resident, running the child as the bench does: its line, and the parent's ru_maxrss of it.
    const parent = spawnSync(process.execPath, ['-e', `
      const big = Buffer.alloc(400 << 20, 1);
      const out = require('node:child_process').execFileSync(process.execPath, [${JSON.stringify(child)}, 'plain-walk', ${JSON.stringify(tree)}]);
      console.log(JSON.stringify({ parentKb: process.resourceUsage().maxRSS, line: JSON.parse(String(out).trim().split('\\n').at(-1)), held: big.length }));`], { encoding: 'utf8' });
    expect(parent.status, parent.stderr).toBe(0);
    const r = JSON.parse(parent.stdout) as { parentKb: number; line: { maxRssKb: number; detail: { entries: number } } };
    expect(r.line.detail.entries).toBe(2);
    expect(r.parentKb).toBeGreaterThan(400 * 1024);
    expect(r.line.maxRssKb).toBeGreaterThan(10 * 1024);
    expect(r.line.maxRssKb).toBeLessThan(200 * 1024);
    fs.rmSync(child, { force: true });
  });
});
