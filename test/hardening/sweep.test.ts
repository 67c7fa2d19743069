// The fault-injection sweep: SIGKILL, EIO and ENOSPC at every mutating syscall (and every open and close)
// of `index`, `reconcile`, `run`, `restore`, `vacuum` and `reset` on a tree that makes every kind of action, of
// `reconcile`, `restore` and `reset PATH…` with the backups on another filesystem, and of a `reconcile` that is a
// rollback (rule 11), each delivered by strace at the n-th call of an uninterrupted run. After each, the same
// command run again converges on the uninterrupted result, nothing the host wrote is lost, the base and
// everything outside the state dir are untouched, and no mount is left behind. `npm test` runs points spread
// evenly over each sweep (70 of them);
// STATE_OVERLAY_SWEEP=all runs every point.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { scratchOverlay, snapshotFull, writeTree } from '../ops/scratch.js';
import { buildCliCase } from './cases.js';
import { assertNothingLost, cli, mountTmpfs, mountsUnder, removeScratch, scratchDir } from './harness.js';
import { injectAt, spread, tracePoints, type Fault, type Point } from './strace.js';
import { SWEEP_CASE, SWEEP_CONF, rollbackCase } from './sweep-case.js';
import { resultOf, lostWhole, outsideOf } from './sweep-result.js';

const ALL = process.env.STATE_OVERLAY_SWEEP === 'all';
/** Points per command and fault in the bounded sweep (ENOSPC's fall between EIO's). */
const BOUNDED: Record<Fault, number> = { SIGKILL: 3, EIO: 2, ENOSPC: 2 };
const FAULTS: readonly Fault[] = ['SIGKILL', 'EIO', 'ENOSPC'];

interface Command {
  readonly name: string;
  readonly args: () => string[];
  /** The root every run of the command starts from. */
  readonly from: () => string;
  /** After the command: `run` leaves the overlay mounted, and unmount is how an operator ends it. */
  readonly mounts?: boolean;
  readonly exdev?: boolean;
}

let top: string;
let template: string;
let reconciled: string;
let vacuumable: string;
let rolledBack: string;
let set: string;
let original: Map<string, string>;
let originalFull: Map<string, string>;
let copies = 0;
/** When the template was built (µs): entries newer than that were made by a run. */
let built = 0;

/** A copy of the root `from`; with exdev, its backups/ (with what it held) a tmpfs of its own. */
async function copyOf(from: string, exdev = false): Promise<string> {
  const root = path.join(top, `r${++copies}`);
  fs.mkdirSync(root);
  await run('cp', ['-a', '--', `${from}/.`, root]);
  if (exdev) {
    const { backupsDir } = scratchOverlay(root).ov.layout;
    const held = `${root}.backups`;
    fs.mkdirSync(backupsDir, { recursive: true, mode: 0o700 });
    fs.renameSync(backupsDir, held);
    await mountTmpfs(backupsDir, 'mode=0700,size=64m');
    await run('cp', ['-a', '--', `${held}/.`, backupsDir]);
    fs.rmSync(held, { recursive: true });
  }
  return root;
}

const COMMANDS: readonly Command[] = [
  { name: 'index', args: () => ['index', 'opt'], from: () => template },
  { name: 'reconcile', args: () => ['reconcile', 'opt'], from: () => template },
  { name: 'run', args: () => ['run', 'opt'], from: () => template, mounts: true },
  { name: 'restore', args: () => ['restore', 'opt', set], from: () => reconciled },
  { name: 'vacuum', args: () => ['vacuum', 'opt'], from: () => vacuumable },
  // A rollback to v1 after v1 → v2: what v1 → v2 dropped comes back, its sidecar goes (rule 11).
  { name: 'reconcile, rollback', args: () => ['reconcile', 'opt'], from: () => rolledBack },
  // The whole upper, then given paths and globs with the backups on another filesystem.
  { name: 'reset', args: () => ['reset', 'opt'], from: () => template },
  { name: 'reset PATH…, EXDEV', args: () => ['reset', 'opt', 'turned', '/opt/bin/w*', 'data', 'opq/sub'], from: () => template, exdev: true },
  // Moves to and from backups on another filesystem: copy, verify, then remove the original.
  { name: 'reconcile, EXDEV', args: () => ['reconcile', 'opt'], from: () => template, exdev: true },
  { name: 'restore, EXDEV', args: () => ['restore', 'opt', set], from: () => reconciled, exdev: true },
];

async function unmount(root: string): Promise<void> {
  const r = await cli(root, ['unmount', 'opt']);
  expect(r.exitCode, r.stderr).toBe(0);
}

const noStack = (stderr: string) => expect(stderr, 'a stack trace').not.toMatch(/^ {4}at /m);

beforeAll(async () => {
  top = scratchDir('so-sweep-');
  await mountTmpfs(top, 'mode=0755,size=1g');
  template = path.join(top, 'template');
  fs.mkdirSync(template);
  const made = await buildCliCase(template, SWEEP_CASE, SWEEP_CONF);
  original = made.original;
  originalFull = snapshotFull(made.s.ov.layout.upper);
  built = (Date.now() + 1) * 1000;
  reconciled = path.join(top, 'reconciled');
  fs.mkdirSync(reconciled);
  await run('cp', ['-a', '--', `${template}/.`, reconciled]);
  const r = await cli(reconciled, ['reconcile', 'opt']);
  expect(r.exitCode, r.stderr).toBe(0);
  const { layout } = scratchOverlay(reconciled).ov;
  set = fs.readdirSync(layout.backupsDir)[0]!;
  // The merged file moved away as restore asks, into a set of its own: the host's version can come back.
  const refused = await cli(reconciled, ['restore', 'opt', set]);
  expect(refused.stderr).toContain('cannot restore merge/m: the upper holds the merge that reconcile wrote');
  const reset = await cli(reconciled, ['reset', 'opt', '/opt/merge/m']);
  expect(reset.exitCode, reset.stderr).toBe(0);
  vacuumable = path.join(top, 'vacuumable');
  fs.mkdirSync(vacuumable);
  await run('cp', ['-a', '--', `${reconciled}/.`, vacuumable]);
  rolledBack = path.join(top, 'rolled-back');
  fs.mkdirSync(rolledBack);
  await run('cp', ['-a', '--', `${template}/.`, rolledBack]);
  await rollbackCase(rolledBack);
  const planned = await cli(rolledBack, ['reconcile', 'opt', '--dry-run', '--json']);
  expect(planned.exitCode, planned.stderr).toBe(0);
  const doc = JSON.parse(planned.stdout) as { restored: number; actions: Array<{ rule: number; kind: string }> };
  expect(doc.restored, 'the rollback case restores nothing').toBeGreaterThan(3);
  expect(new Set(doc.actions.filter((a) => a.rule === 11).map((a) => a.kind))).toEqual(new Set(['restore-from-backups', 'move-to-backups', 'rename', 'keep']));
  // Copy-ups identical to the base, as a host that opened files for writing leaves them.
  await writeTree(scratchOverlay(vacuumable).ov.layout.upper, { 'share/s1': 's1\n', 'share/s2': 's2\n', 'moded/f': 'moded v1\n' });
}, 120_000);

afterAll(async () => {
  await removeScratch(top);
});

describe.each(COMMANDS)('$name', (cmd) => {
  let points: Point[] = [];
  let reference: ReturnType<typeof resultOf>;
  let cleanMounts: string[];
  let outside: ReturnType<typeof outsideOf>;

  beforeAll(async () => {
    outside = outsideOf(cmd.from());
    const root = await copyOf(cmd.from(), cmd.exdev);
    points = await tracePoints(root, cmd.args());
    if (cmd.mounts) await unmount(root);
    reference = resultOf(root, built);
    cleanMounts = mountsUnder(root).map((m) => path.relative(root, m));
    await removeScratch(root);
  }, 120_000);

  /** One point: the fault, the recovery, and every check; throws what it finds. */
  async function sweepPoint(p: Point, fault: Fault, label: string): Promise<void> {
    const root = await copyOf(cmd.from(), cmd.exdev);
    try {
      const { layout } = scratchOverlay(root).ov;
      const cut = await injectAt(root, cmd.args(), p, fault);
      // The call counts of this run shifted onto libuv's spawn pipe: a point no errno reaches past.
      if (cut.spawnPipe) return;
      // This run ended before its n-th call: no fault was delivered, and it must simply have succeeded.
      if (!cut.injected) {
        expect(cut.code, `no fault delivered, yet it failed: ${cut.stderr}`).toBe(0);
        expect(resultOf(root, built), 'succeeded with another result').toEqual(reference);
        return;
      }
      if (fault === 'SIGKILL') expect(cut.signal, `not killed (${cut.code}: ${cut.stderr})`).toBe('SIGKILL');
      else if ((cut.elsewhere || cut.closedInMain || cut.shifted) && cut.signal === 'SIGABRT') {
        // libuv's own abort on an errno another thread of Node's got, on a close(2) of its own (the product's
        // closes report their errors), or on another call than the traced one that the shifted count reached
        // (its wakeup write, say; the product's own calls throw, they never abort): a crash like a kill,
        // recovered the same.
      } else {
        expect(cut.signal, `died of a signal (${cut.signal}): ${cut.stderr}`).toBeNull();
        noStack(cut.stderr);
        if (cut.code !== 0) expect(cut.stderr, 'failed without a message').toMatch(/^state-overlay: /m);
      }
      expect(lostWhole(originalFull, layout), 'lost by the fault').toEqual([]);
      // An errno the command got past must not have changed what it did.
      if (cut.code === 0) expect(resultOf(root, built), 'succeeded with another result').toEqual(reference);
      // Recovery is what an operator does: the same command again (then unmount, for run). When the first
      // one got as far as its result, the second may refuse (a restore of what is back already).
      const doneAlready = JSON.stringify(resultOf(root, built)) === JSON.stringify(reference);
      const again = await cli(root, cmd.args());
      noStack(again.stderr);
      if (!doneAlready) expect(again.exitCode, `recovery failed: ${again.stderr}`).toBe(0);
      if (cmd.mounts && mountsUnder(layout.target).length > 0) await unmount(root);
      expect(resultOf(root, built), 'recovery did not converge').toEqual(reference);
      assertNothingLost('fault sweep', label, layout, original);
      expect(lostWhole(originalFull, layout), "an entry's time or xattrs changed").toEqual([]);
      expect(outsideOf(root), 'outside the state dir').toEqual(outside);
      expect(mountsUnder(root).map((m) => path.relative(root, m)), 'mounts left').toEqual(cleanMounts);
    } finally {
      await removeScratch(root);
    }
  }

  it.each(FAULTS)('%s at every point', { timeout: ALL ? 6 * 3600_000 : 120_000 }, async (fault) => {
    const eligible = fault === 'SIGKILL' ? points : points.filter((p) => p.errnoReachesCode);
    const chosen = ALL ? eligible : spread(eligible, BOUNDED[fault], fault === 'ENOSPC');
    expect(chosen.length).toBeGreaterThan(0);
    // Every point is tried: the failures are reported together, each with its reproduction.
    const failures: string[] = [];
    for (const p of chosen) {
      const label = `${cmd.name}: ${fault} at ${p.syscall} #${p.n} of ${eligible.length} points (${p.call})`;
      await sweepPoint(p, fault, label).catch((err: unknown) => failures.push(`${label}: ${(err as Error).message.split('\n')[0]}`));
    }
    expect(failures).toEqual([]);
  });
});
