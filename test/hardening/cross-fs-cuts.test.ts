// Cross-filesystem moves cut by SIGKILL at chosen fsync(2) calls (strace injects the signal): mid-copy,
// between the copy's rename into place and the original's removal, during the removal. Into backups
// (reconcile) and back (restore): the next run of the same command converges, every attribute kept.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { setTree } from '../../src/backups/sets.js';
import { scratchOverlay, snapshot, snapshotFull } from '../ops/scratch.js';
import { buildCliCase } from './cases.js';
import { BIN, assertNothingLost, cli, mountTmpfs, removeScratch, scratchDir } from './harness.js';
import { RICH } from './xfs-cases.js';

const ENV = { INVOCATION_ID: '', JOURNAL_STREAM: '', NOTIFY_SOCKET: '' };

let top: string;
let template: string;
let original: Map<string, string>;
let turned: Map<string, string>;

/** A copy of the root `from` at top/tag, its backups/ (with what it held) a tmpfs of its own: rename there gives EXDEV. */
async function copyOf(from: string, tag: string): Promise<string> {
  const root = path.join(top, tag);
  fs.mkdirSync(root);
  await run('cp', ['-a', '--', `${from}/.`, root]);
  const { backupsDir } = scratchOverlay(root).ov.layout;
  const held = `${root}.backups`;
  fs.mkdirSync(backupsDir, { recursive: true, mode: 0o700 });
  fs.renameSync(backupsDir, held);
  await mountTmpfs(backupsDir, 'mode=0700,size=256m');
  await run('cp', ['-a', '--', `${held}/.`, backupsDir]);
  fs.rmSync(held, { recursive: true });
  return root;
}

const straceArgs = (root: string, args: readonly string[]) => [process.execPath, BIN, '--root', root, '-q', ...args];

/** fsync calls of the main thread in an uninterrupted run (the one that makes them all: the executor is synchronous). */
async function fsyncCalls(root: string, args: readonly string[]): Promise<number> {
  const out = `${root}.strace`;
  await run('strace', ['-f', '-qq', '-o', out, '-e', 'trace=fsync', ...straceArgs(root, args)], { env: ENV, timeoutMs: 120_000 });
  const lines = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('fsync('));
  const main = lines[0]!.split(' ')[0];
  return lines.filter((l) => l.split(' ')[0] === main).length;
}

/** Runs the command with SIGKILL delivered at its n-th fsync; true when it was killed there (strace dies of the same signal). */
async function cutAt(root: string, args: readonly string[], n: number): Promise<boolean> {
  try {
    await run('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=fsync', '-e', `inject=fsync:signal=SIGKILL:when=${n}`, ...straceArgs(root, args)], { env: ENV, timeoutMs: 120_000 });
    return false;
  } catch (err) {
    if (/killed by SIGKILL$/.test((err as Error).message)) return true;
    throw err;
  }
}

/** Every fsync index up to total, or `most` of them spread evenly (the first and the last included). */
function cutPoints(total: number, most = 16): number[] {
  if (total <= most) return Array.from({ length: total }, (_, i) => i + 1);
  return [...new Set(Array.from({ length: most }, (_, i) => 1 + Math.round((i * (total - 1)) / (most - 1))))];
}

beforeAll(async () => {
  top = scratchDir('so-xfs-cut-');
  await mountTmpfs(top, 'mode=0755,size=2g');
  template = path.join(top, 'template');
  fs.mkdirSync(template);
  const built = await buildCliCase(template, RICH);
  original = built.original;
  turned = snapshotFull(path.join(built.s.ov.layout.upper, 'turned'));
});

afterAll(async () => {
  await removeScratch(top);
});

describe('cross-filesystem moves cut by SIGKILL', () => {
  it('into backups (reconcile): the next reconcile converges, every attribute in the set', { timeout: 300_000 }, async () => {
    const total = await fsyncCalls(await copyOf(template, 'reference'), ['reconcile', 'opt']);
    expect(total).toBeGreaterThan(10);
    for (const at of cutPoints(total)) {
      const root = await copyOf(template, `reconcile-${at}`);
      const { layout } = scratchOverlay(root).ov;
      expect(await cutAt(root, ['reconcile', 'opt'], at), `cut at fsync ${at} of ${total}`).toBe(true);
      assertNothingLost('kill -9', `EXDEV reconcile cut at fsync ${at} of ${total}`, layout, original);
      const again = await cli(root, ['reconcile', 'opt']);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(fs.existsSync(layout.journal)).toBe(false);
      expect(fs.existsSync(path.join(layout.upper, 'turned'))).toBe(false);
      // The set the journal named (a cut before the journal was written may leave another, empty one).
      const sets = fs.readdirSync(layout.backupsDir).filter((n) => fs.existsSync(path.join(setTree(layout, n), 'turned')));
      expect(sets).toHaveLength(1);
      const tree = setTree(layout, sets[0]!);
      expect(snapshotFull(path.join(tree, 'turned')), `cut at fsync ${at}`).toEqual(turned);
      expect([...snapshot(tree).keys()].filter((p) => p.includes('.state-overlay-'))).toEqual([]);
      assertNothingLost('kill -9', `EXDEV reconcile cut at fsync ${at} of ${total}: converged`, layout, original);
      await removeScratch(root);
    }
  });

  it('back out of backups (restore): the next restore converges, every attribute back in the upper', { timeout: 300_000 }, async () => {
    const prepared = await copyOf(template, 'prepared');
    const done = await cli(prepared, ['reconcile', 'opt']);
    expect(done.exitCode, done.stderr).toBe(0);
    // The reconciled root, its set included, is where every restore below starts.
    const [set] = fs.readdirSync(scratchOverlay(prepared).ov.layout.backupsDir);
    const args = ['restore', 'opt', set!];
    const total = await fsyncCalls(await copyOf(prepared, 'restore-reference'), args);
    expect(total).toBeGreaterThan(5);
    for (const at of cutPoints(total)) {
      const root = await copyOf(prepared, `restore-${at}`);
      const { layout } = scratchOverlay(root).ov;
      expect(await cutAt(root, args, at), `cut at fsync ${at} of ${total}`).toBe(true);
      assertNothingLost('kill -9', `EXDEV restore cut at fsync ${at} of ${total}`, layout, original);
      const again = await cli(root, args);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(fs.existsSync(layout.journal)).toBe(false);
      expect(snapshotFull(path.join(layout.upper, 'turned')), `cut at fsync ${at}`).toEqual(turned);
      expect(fs.readdirSync(path.join(layout.upper)).filter((p) => p.includes('.state-overlay-'))).toEqual([]);
      expect(fs.existsSync(path.join(setTree(layout, set!), 'turned'))).toBe(false);
      assertNothingLost('kill -9', `EXDEV restore cut at fsync ${at} of ${total}: converged`, layout, original);
      await removeScratch(root);
    }
  });
});
