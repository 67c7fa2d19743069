// kill -9 at seeded random points of `index`, `reconcile` and `run` (reconcile + mount), then a re-run:
// it must succeed, converge to the result of an uninterrupted run, and lose nothing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { readState } from '../../src/state/state-file.js';
import { scratchOverlay, snapshot, sorted } from '../ops/scratch.js';
import { buildCase, type CaseSpec } from './cases.js';
import { BIN, assertNothingLost, cli, mountTmpfs, mountsUnder, recordCase, removeScratch, scratchDir } from './harness.js';
import { prng } from '../prng.js';

/** Seeds per command (HARDENING_SEEDS raises it for a longer soak). */
const SEEDS = Number(process.env.HARDENING_SEEDS ?? 4);
const FILES = 300;
const CONFIG_TEXT = '[Paths]\nConfig=/opt/etc/**\n';

const many = (dir: string, v: string) => Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`${dir}/d${i % 20}/f${i}`, `${dir} ${i} ${v}\n`]));
const CASE: CaseSpec = {
  name: 'kill -9',
  config: { paths: { config: ['/opt/etc/**'] } } as never,
  v1: async (b) => {
    const { writeTree } = await import('../ops/scratch.js');
    await writeTree(b, { ...many('bin', 'v1'), ...many('etc', 'v1'), ...many('share', 'v1') });
  },
  upper: async (u) => {
    const { writeTree } = await import('../ops/scratch.js');
    await writeTree(u, { ...many('bin', 'edited'), ...many('etc', 'edited'), ...many('share', 'v1'), ...many('data', 'state') });
  },
  v2: async (b) => {
    const { writeTree } = await import('../ops/scratch.js');
    await writeTree(b, { ...many('bin', 'v2'), ...many('etc', 'v2') });
  },
};

let top: string;
let template: string;
let original: Map<string, string>;
let reference: Array<[string, string]>;
/** How long an uninterrupted CLI run takes, per command (ms): the kill points are drawn below it. */
const spans: Record<string, number> = {};
/** Mounts (relative to the root) an uninterrupted run leaves after `unmount` (the base bind may stay). */
let cleanMounts: string[] = [];

async function copyOf(tag: string): Promise<string> {
  const root = path.join(top, tag);
  fs.mkdirSync(root);
  await run('cp', ['-a', '--', `${template}/.`, root]);
  return root;
}

/** Spawns the CLI and kills it with SIGKILL after ms (or lets it finish first). */
function killAfter(root: string, args: string[], ms: number): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--root', root, '-q', ...args], { stdio: 'ignore', env: { ...process.env, NOTIFY_SOCKET: '', INVOCATION_ID: '' } });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

async function timed(root: string, args: string[]): Promise<number> {
  const t = Date.now();
  const r = await cli(root, args);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return Date.now() - t;
}

beforeAll(async () => {
  top = scratchDir('so-kill-');
  await mountTmpfs(top, 'mode=0755,size=1g');
  template = path.join(top, 'template');
  fs.mkdirSync(template);
  const built = await buildCase(template, CASE);
  original = built.original;
  fs.mkdirSync(path.join(template, 'etc/state-overlay'), { recursive: true });
  fs.writeFileSync(path.join(template, 'etc/state-overlay/opt.conf'), CONFIG_TEXT);
  const ref = await copyOf('reference');
  spans.reconcile = await timed(ref, ['reconcile', 'opt']);
  reference = sorted(snapshot(scratchOverlay(ref).ov.layout.upper));
  spans.index = await timed(await copyOf('index-reference'), ['index', 'opt']);
  const mounted = await copyOf('run-reference');
  spans.run = await timed(mounted, ['run', 'opt']);
  await timed(mounted, ['unmount', 'opt']);
  spans.mount = await timed(mounted, ['mount', 'opt']);
  await timed(mounted, ['unmount', 'opt']);
  cleanMounts = mountsUnder(mounted).map((m) => path.relative(mounted, m));
});

afterAll(async () => {
  await removeScratch(top);
});

async function converged(root: string, label: string): Promise<void> {
  const { layout } = scratchOverlay(root).ov;
  expect(fs.existsSync(layout.journal), `${label}: journal left`).toBe(false);
  expect(sorted(snapshot(layout.upper))).toEqual(reference);
  expect(readState(layout)?.generation).toMatch(/^tree:/);
  assertNothingLost('kill -9', label, layout, original);
}

describe('kill -9 at random points', () => {
  it('a temp manifest of a killed index is removed by the next index', async () => {
    const root = await copyOf('index-stale');
    const dead = spawn(process.execPath, ['-e', '0']);
    const pid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid!)));
    const dir = scratchOverlay(root).ov.layout.manifestsDir;
    const stale = path.join(dir, `tree:0000.manifest.tmp-${pid}`);
    fs.writeFileSync(stale, 'half a manifest');
    const r = await cli(root, ['index', 'opt']);
    expect(r.stderr).toBe('');
    expect(fs.existsSync(stale)).toBe(false);
    recordCase('kill -9', 'stale temp manifest of a killed index');
    await removeScratch(root);
  });

  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('reconcile, seed %i: the re-run converges', async (seed) => {
    const root = await copyOf(`reconcile-${seed}`);
    const ms = Math.floor(prng(seed)() * spans.reconcile!);
    await killAfter(root, ['reconcile', 'opt'], ms);
    const again = await cli(root, ['reconcile', 'opt']);
    expect(again.stderr).toBe('');
    expect(again.exitCode).toBe(0);
    await converged(root, `reconcile killed after ${ms} ms (seed ${seed})`);
    await removeScratch(root);
  });

  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('index, seed %i: the re-run writes a valid manifest, then reconcile converges', async (seed) => {
    const root = await copyOf(`index-${seed}`);
    const ms = Math.floor(prng(100 + seed)() * spans.index!);
    await killAfter(root, ['index', 'opt'], ms);
    const again = await cli(root, ['--json', 'index', 'opt']);
    expect(again.stderr).toBe('');
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ entries: FILES * 3 + 60 + 3 });
    const rec = await cli(root, ['reconcile', 'opt']);
    expect(rec.stderr).toBe('');
    await converged(root, `index killed after ${ms} ms (seed ${seed})`);
    const manifests = fs.readdirSync(scratchOverlay(root).ov.layout.manifestsDir);
    expect(manifests.filter((f) => f.includes('.tmp-'))).toEqual([]);
    await removeScratch(root);
  });

  it('a read-only base bind left by a mount killed right after binding: the next mount succeeds', async () => {
    const root = await copyOf('stale-bind');
    try {
      await timed(root, ['reconcile', 'opt']);
      const { layout, base } = scratchOverlay(root).ov;
      fs.mkdirSync(layout.baseBind, { recursive: true, mode: 0o700 });
      await run('mount', ['--bind', base, layout.baseBind]);
      await run('mount', ['--make-private', layout.baseBind]);
      await run('mount', ['-o', 'remount,bind,ro', layout.baseBind]);
      const r = await cli(root, ['mount', 'opt']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(root, 'opt/data/d1/f1'), 'utf8')).toBe('data 1 state\n');
      await timed(root, ['unmount', 'opt']);
      expect(mountsUnder(root).map((m) => path.relative(root, m))).toEqual(cleanMounts);
      recordCase('kill -9', 'stale read-only base bind');
    } finally {
      await removeScratch(root);
    }
  });

  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('mount alone (reconciled before), seed %i: the re-run mounts', async (seed) => {
    const root = await copyOf(`mount-${seed}`);
    try {
      await timed(root, ['reconcile', 'opt']);
      const ms = Math.floor(prng(300 + seed)() * spans.mount!);
      await killAfter(root, ['mount', 'opt'], ms);
      const again = await cli(root, ['mount', 'opt']);
      expect(again.stderr).toBe('');
      expect(again.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(root, 'opt/bin/d1/f1'), 'utf8')).toBe('bin 1 v2\n');
      const off = await cli(root, ['unmount', 'opt']);
      expect(off.stderr).toBe('');
      expect(mountsUnder(root).map((m) => path.relative(root, m))).toEqual(cleanMounts);
      await converged(root, `mount killed after ${ms} ms (seed ${seed})`);
    } finally {
      await removeScratch(root);
    }
  });

  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('run (reconcile + mount), seed %i: the re-run mounts and converges', async (seed) => {
    const root = await copyOf(`run-${seed}`);
    try {
      const ms = Math.floor(prng(200 + seed)() * spans.run!);
      await killAfter(root, ['run', 'opt'], ms);
      const again = await cli(root, ['run', 'opt']);
      expect(again.stderr).toBe('');
      expect(again.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(root, 'opt/bin/d1/f1'), 'utf8')).toBe('bin 1 v2\n');
      expect(fs.readFileSync(path.join(root, 'opt/data/d1/f1'), 'utf8')).toBe('data 1 state\n');
      const off = await cli(root, ['unmount', 'opt']);
      expect(off.stderr).toBe('');
      expect(mountsUnder(root).map((m) => path.relative(root, m))).toEqual(cleanMounts);
      await converged(root, `run killed after ${ms} ms (seed ${seed})`);
    } finally {
      await removeScratch(root);
    }
  });
});
