// Crash safety: the executor stopped after every action k of a large plan, then re-run, must converge
// to the uninterrupted result, and no original upper entry may be missing at any point.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { FAULT_ENV } from '../../src/txn/fault.js';
import { progressFile } from '../../src/txn/journal.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { readState } from '../../src/state/state-file.js';
import { bpath, removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, snapshot, sorted, writeTree, type Spec } from '../ops/scratch.js';
import { prng } from '../prng.js';

/** The checkpoints' syncfs(2) calls, counted: the `sync:N` cut points are one per call. */
const syncfsCalls = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../src/native/syscalls.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/native/syscalls.js')>();
  return {
    ...real,
    syncfs: (fd: number, p: string) => {
      syncfsCalls.n++;
      real.syncfs(fd, p);
    },
  };
});

const CONFIG = { paths: { config: ['/opt/etc/**'], configReplace: ['/opt/etcr/**'], merge: [{ glob: '/opt/merge/**', driver: 'text' }] } };
/** The merged files: both sides changed a different line, so each merges cleanly. */
const mergeV = (i: string, host: string, base: string) => `${i} ${host}
middle
${i} ${base}
`;
const ODD = Buffer.from([0x62, 0xff, 0xfe, 0x80]); // not UTF-8

// Scratch roots live on a tmpfs: fsync is free there, and the test runs the executor some 150 times.
let mnt: string;
let template: string;

function range(n: number, f: (i: string) => [string, Spec][]): Record<string, Spec> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => f(String(i).padStart(2, '0'))).flat());
}

beforeAll(async () => {
  mnt = scratch('so-crash-');
  await run('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', mnt]);
  template = fs.mkdtempSync(path.join(mnt, 'template-'));
  const s = scratchOverlay(template, CONFIG);
  const v1: Record<string, Spec> = {
    ...range(20, (i) => [[`bin/f${i}`, `f${i} v1\n`]]),
    'bin/l0': { link: 'target-v1' },
    ...range(10, (i) => [[`etc/c${i}`, `c${i} v1\n`]]),
    ...range(10, (i) => [[`etcr/r${i}`, `r${i} v1\n`]]),
    ...range(5, (i) => [[`share/s${i}`, `s${i}\n`]]),
    ...range(5, (i) => [[`wh/w${i}`, `w${i} v1\n`]]),
    attrs: { dir: true, mode: 0o755 },
    'attrs2/f': 'a2 v1\n',
    'opq/x': 'x v1\n',
    ...range(3, (i) => [[`gone/g${i}`, `g${i}\n`]]),
    ...range(6, (i) => [[`merge/m${i}`, mergeV(i, 'v1', 'v1')]]),
  };
  await writeTree(s.ov.base, v1);
  fs.writeFileSync(bpath(s.ov.base, 'bin', ODD), 'odd v1\n');
  await s.record('gen1');
  await writeTree(s.ov.layout.upper, {
    ...range(20, (i) => [[`bin/f${i}`, `f${i} edited\n`]]),
    'bin/l0': { link: 'mine' },
    ...range(10, (i) => [[`etc/c${i}`, `c${i} edited\n`]]),
    'etc/c00.rpmnew': 'an older sidecar\n',
    ...range(10, (i) => [[`etcr/r${i}`, { file: `r${i} edited\n`, mode: 0o600 }]]),
    // An older saved name: moved to backups, then the rename writes the name again.
    'etcr/r00.rpmsave': 'an older save\n',
    ...range(5, (i) => [[`share/s${i}`, `s${i}\n`]]),
    ...range(5, (i) => [[`wh/w${i}`, { whiteout: Number(i) % 2 ? 'chardev' : 'xattr' }]]),
    attrs: { dir: true, mode: 0o755 },
    'attrs/state': 'state\n',
    // Its mode set, then removed once its only entry is dropped: a replay finds it gone.
    attrs2: { dir: true, mode: 0o755 },
    'attrs2/f': 'a2 edited\n',
    opq: { dir: true, opaque: true },
    'opq/mine': 'mine\n',
    ...range(3, (i) => [[`gone/g${i}`, `g${i} edited\n`]]),
    'data/db': 'pure state\n',
    ...range(6, (i) => [[`merge/m${i}`, { file: mergeV(i, 'host', 'v1'), mode: 0o600 }]]),
  });
  fs.writeFileSync(bpath(s.ov.layout.upper, 'bin', ODD), 'odd edited\n');
  // The new base.
  await writeTree(s.ov.base, {
    ...range(20, (i) => [[`bin/f${i}`, `f${i} v2\n`]]),
    ...range(10, (i) => [[`etc/c${i}`, `c${i} v2\n`]]),
    ...range(10, (i) => [[`etcr/r${i}`, `r${i} v2\n`]]),
    ...range(5, (i) => [[`wh/w${i}`, `w${i} v2\n`]]),
    'opq/x': 'x v2\n',
    'attrs2/f': 'a2 v2\n',
    ...range(6, (i) => [[`merge/m${i}`, mergeV(i, 'v1', 'v2')]]),
  });
  fs.chmodSync(path.join(s.ov.base, 'attrs2'), 0o750);
  fs.unlinkSync(path.join(s.ov.base, 'bin/l0'));
  fs.symlinkSync('target-v2', path.join(s.ov.base, 'bin/l0'));
  fs.writeFileSync(bpath(s.ov.base, 'bin', ODD), 'odd v2\n');
  fs.chmodSync(path.join(s.ov.base, 'attrs'), 0o750);
  fs.rmSync(path.join(s.ov.base, 'gone'), { recursive: true });
});

afterAll(async () => {
  delete process.env[FAULT_ENV];
  await run('umount', [mnt]);
  await removeTree(mnt);
});

async function copyOf(): Promise<ReturnType<typeof scratchOverlay>> {
  const root = fs.mkdtempSync(path.join(mnt, 'run-'));
  await run('cp', ['-a', '--', `${template}/.`, root]);
  return scratchOverlay(root, CONFIG);
}

const SET = /^\d{8}T\d{9}Z-/;
/** Upper, backups (set stamp and index timestamps left out) and state.json (times left out) of a run. */
function result(s: ReturnType<typeof scratchOverlay>) {
  const { layout } = s.ov;
  const backups = sorted(snapshot(layout.backupsDir)).filter(([p]) => !p.endsWith('/index.json')).map(([p, d]) => [p.replace(SET, 'SET-'), d]);
  const indexes = fs.readdirSync(layout.backupsDir).map((set) => {
    const { createdAt: _c, set: _s, ...rest } = JSON.parse(fs.readFileSync(path.join(layout.backupsDir, set, 'index.json'), 'utf8'));
    return rest;
  });
  const state = readState(layout)!;
  const { at: _a, ms: _m, backupSet, ...last } = state.lastReconcile!;
  return { upper: sorted(snapshot(layout.upper)), backups, indexes, state: { ...state, lastReconcile: { ...last, backupSet: backupSet?.replace(SET, 'SET-') } } };
}

/** Every non-directory of the original upper, byte-identical, in the upper (maybe moved aside) or in a backup set. */
function assertNothingLost(s: ReturnType<typeof scratchOverlay>, original: Map<string, string>): void {
  const { layout } = s.ov;
  const upper = snapshot(layout.upper);
  const sets = fs.existsSync(layout.backupsDir) ? fs.readdirSync(layout.backupsDir).map((set) => snapshot(path.join(layout.backupsDir, set, 'upper'))) : [];
  for (const [p, d] of original) {
    if (d.startsWith('dir ')) continue;
    const found = upper.get(p) === d || upper.get(`${p}.rpmsave`) === d || sets.some((b) => b.get(p) === d);
    expect(found, `${p} (${d}) is neither in the upper nor in backups`).toBe(true);
  }
  // A merged file is the host's or the merge's, whole, or not there yet (the host's in the set): never half of one.
  for (let i = 0; i < 6; i++) {
    const f = path.join(layout.upper, `merge/m0${i}`);
    const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined;
    expect([undefined, mergeV(`0${i}`, 'host', 'v1'), mergeV(`0${i}`, 'host', 'v2')], `merge/m0${i}`).toContain(text);
  }
}

describe('crash safety of the reconcile executor', () => {
  it('converges to the uninterrupted result after a stop at every action', async () => {
    const original = snapshot(path.join(template, 'var/lib/state-overlay/opt/upper'));
    const ref = await copyOf();
    const report = await reconcileOverlay(ref.ov, memoryLog(), { current: { generation: 'gen2' } });
    const total = report.plan.actions.length;
    expect(total).toBeGreaterThanOrEqual(50);
    expect(new Set(report.plan.actions.map((a) => a.kind))).toEqual(new Set(['move-to-backups', 'rename', 'write-sidecar', 'merge', 'set-attrs', 'remove-empty-dir', 'keep']));
    assertNothingLost(ref, original);
    const want = result(ref);

    for (let k = 1; k <= total; k++) {
      const s = await copyOf();
      process.env[FAULT_ENV] = String(k);
      await expect(reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } })).rejects.toThrow(
        `${FAULT_ENV}=${k}: stopped after action ${k} of ${total} (test-only fault point)`,
      );
      delete process.env[FAULT_ENV];
      expect(fs.existsSync(s.ov.layout.journal)).toBe(true);
      assertNothingLost(s, original);
      const log = memoryLog();
      const again = await reconcileOverlay(s.ov, log, { current: { generation: 'gen2' } });
      expect(again.resumed).toBe(true);
      expect(again.upToDate).toBe(true);
      const resume = log.events.find((e) => e.event === 'reconcile.resume') as { done: number; total: number };
      expect(resume.total).toBe(total);
      expect(resume.done).toBeLessThan(k);
      expect(result(s)).toEqual(want);
      await removeTree(s.root);
    }
  });

  it('converges from random cuts anywhere, one after another, and from a replay of any recorded prefix', async () => {
    const original = snapshot(path.join(template, 'var/lib/state-overlay/opt/upper'));
    const ref = await copyOf();
    syncfsCalls.n = 0;
    const report = await reconcileOverlay(ref.ov, memoryLog(), { current: { generation: 'gen2' } });
    const syncs = syncfsCalls.n;
    expect(syncs, 'checkpoints synced').toBeGreaterThan(1);
    const want = result(ref);
    const total = report.plan.actions.length;
    // Every cut point: after an action, after each syncfs of a checkpoint, and between the durable steps around them.
    const named = ['journal', 'index', 'sidecars', 'actions', 'state', 'journal-removed'];
    const points = [...Array.from({ length: total }, (_, i) => String(i + 1)), ...Array.from({ length: syncs }, (_, i) => `sync:${i + 1}`), ...named];
    const seeds = Number(process.env.CRASH_SEEDS ?? 40);
    for (let seed = 1; seed <= seeds; seed++) {
      const rand = prng(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
      const s = await copyOf();
      const cuts = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => (rand() < 0.3 ? pick(named) : pick(points)));
      for (const cut of cuts) {
        process.env[FAULT_ENV] = cut;
        const outcome = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } }).then(
          () => 'finished',
          (err: Error) => {
            expect(err.message, `seed ${seed}, cut ${cut}`).toContain('(test-only fault point)');
            return 'cut';
          },
        );
        delete process.env[FAULT_ENV];
        assertNothingLost(s, original);
        // Records lost after the cut: the replay starts earlier, over actions (and later ones) already done.
        const progress = progressFile(s.ov.layout);
        if (outcome === 'cut' && rand() < 0.4 && fs.existsSync(progress)) {
          const lines = fs.readFileSync(progress, 'latin1').split('\n').slice(0, -1);
          fs.writeFileSync(progress, lines.slice(0, Math.floor(rand() * (lines.length + 1))).map((l) => `${l}\n`).join(''), 'latin1');
        }
      }
      const again = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
      expect(again.upToDate, `seed ${seed}, cuts ${cuts.join(' ')}`).toBe(true);
      expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
      expect(result(s), `seed ${seed}, cuts ${cuts.join(' ')}`).toEqual(want);
      await removeTree(s.root);
    }
  });
});
