// The journal, the transaction and the backup sets under the failures real hosts have: a cut between any two
// durable steps, a damaged journal, progress file or set index, and a plan whose premises changed before it
// was finished (a rollback, a mismatched manifest). Each converges, refuses naming the file and field, or
// completes what is safe with a warning; nothing is ever lost.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeIndex } from '../../src/backups/index-file.js';
import { listSets, setName } from '../../src/backups/sets.js';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { buildManifest } from '../../src/manifest/build.js';
import { manifestDigest } from '../../src/manifest/store.js';
import { readState, stateManifestFile } from '../../src/state/state-file.js';
import { FAULT_ENV } from '../../src/txn/fault.js';
import { progressFile } from '../../src/txn/journal.js';
import { readProgress } from '../../src/txn/progress.js';
import { rel } from '../model/rel.js';
import { snapshot, sorted, type Scratch } from '../ops/scratch.js';
import { buildCase, buildCliCase, tree, type CaseSpec } from './cases.js';
import { assertNothingLost, cli, scratchTop } from './harness.js';

const scratch = scratchTop('so-journal-', 'mode=0755,size=256m');
afterEach(() => {
  delete process.env[FAULT_ENV];
  vi.restoreAllMocks();
});

const CONFIG = { paths: { config: ['/opt/etc/**'], configReplace: ['/opt/etcr/**'] } } as never;
const CONF_TEXT = '[Paths]\nConfig=/opt/etc/**\nConfigReplace=/opt/etcr/**\n';

/** Every action kind: a drop, a sidecar, a saved name, attrs then rmdir of one directory, an rmdir of a removed one. */
const KINDS: CaseSpec = {
  name: 'every action kind',
  config: CONFIG,
  v1: tree({ 'bin/f': 'f v1\n', 'etc/c': 'c v1\n', 'etcr/r': 'r v1\n', attrs: { dir: true, mode: 0o755 }, 'attrs/f': 'a v1\n', 'gone/g': 'g v1\n' }),
  upper: tree({ 'bin/f': 'f edited\n', 'etc/c': 'c edited\n', 'etcr/r': 'r edited\n', attrs: { dir: true, mode: 0o755 }, 'attrs/f': 'a edited\n', 'gone/g': 'g edited\n', 'data/db': 'state\n' }),
  v2: async (b) => {
    await tree({ 'bin/f': 'f v2\n', 'etc/c': 'c v2\n', 'etcr/r': 'r v2\n', 'attrs/f': 'a v2\n' })(b);
    fs.chmodSync(path.join(b, 'attrs'), 0o750);
    fs.rmSync(path.join(b, 'gone'), { recursive: true });
  },
};

const reconcile = (s: Scratch, generation = 'gen2', log = memoryLog()) => reconcileOverlay(s.ov, log, { current: { generation } });

/** Stops a reconcile at a fault point (STATE_OVERLAY_FAULT_AFTER=point). */
async function cutAt(s: Scratch, point: string): Promise<void> {
  process.env[FAULT_ENV] = point;
  try {
    await expect(reconcile(s)).rejects.toThrow('test-only fault point');
  } finally {
    delete process.env[FAULT_ENV];
  }
}

/** The upper and the backup trees of a finished reconcile, set names left out. */
function outcome(s: Scratch) {
  const { layout } = s.ov;
  const sets = fs.existsSync(layout.backupsDir) ? fs.readdirSync(layout.backupsDir).sort() : [];
  return { upper: sorted(snapshot(layout.upper)), sets: sets.map((n) => sorted(snapshot(path.join(layout.backupsDir, n, 'upper')))) };
}

/** KINDS with an older saved name and an older sidecar in the upper: moved to backups, then written anew. */
const OLDER: CaseSpec = {
  ...KINDS,
  name: 'older saved name and sidecar',
  upper: async (u, s) => {
    await KINDS.upper(u, s);
    await tree({ 'etcr/r.rpmsave': 'an older save\n', 'etc/c.rpmnew': 'an older sidecar\n' })(u);
  },
};

async function reference(spec: CaseSpec = KINDS): Promise<ReturnType<typeof outcome>> {
  const { s } = await buildCase(scratch.next(), spec);
  await reconcile(s);
  return outcome(s);
}

describe('cuts between the durable steps of a transaction', () => {
  it('a set whose index was written but never its journal holds nothing: Keep= does not count it, the set of older edits survives', async () => {
    const c: CaseSpec = {
      name: 'phantom backup set',
      config: { backups: { keep: 2 } } as never,
      v1: tree({ 'bin/f': 'f v1\n', 'bin/g': 'g v1\n' }),
      upper: tree({ 'bin/f': 'f edited\n', 'bin/g': 'g edited\n' }),
      v2: tree({ 'bin/f': 'f v2\n' }),
    };
    const { s, original } = await buildCase(scratch.next(), c);
    const { layout } = s.ov;
    const first = await reconcile(s);
    expect(first.dropped).toBe(1);
    await s.record('gen2');
    fs.writeFileSync(path.join(s.ov.base, 'bin/g'), 'g v3\n');
    await new Promise((r) => setTimeout(r, 5));
    // What a run killed between the set's index and its journal left: an index claiming bin/g, nothing moved.
    const phantom = setName(new Date(), 'gen3');
    fs.mkdirSync(path.join(layout.backupsDir, phantom, 'upper'), { recursive: true, mode: 0o700 });
    writeIndex(path.join(layout.backupsDir, phantom, 'index.json'), {
      version: 1, overlay: 'opt', set: phantom, origin: 'reconcile', mode: 'changed', from: 'gen2', to: 'gen3', createdAt: new Date().toISOString(),
      entries: [{ path: rel('bin/g'), display: 'bin/g', kind: 'shadow', type: 'file', rule: 3, reason: 'the base changed this path' }],
    });
    await new Promise((r) => setTimeout(r, 5));
    const second = await reconcile(s, 'gen3');
    expect(second.dropped).toBe(1);
    expect(listSets(layout).map((x) => x.name)).toEqual([first.backupSet, second.backupSet]);
    assertNothingLost('kill -9', 'phantom backup set (index without its journal) not counted by Keep=', layout, original);
  });

  it.each(['journal', 'index', 'sidecars', 'actions', 'state', 'journal-removed'])('a cut at %s: the next run converges to the uninterrupted result, every set holding what its index lists', async (point) => {
    const want = await reference();
    const { s, original } = await buildCase(scratch.next(), KINDS);
    const { layout } = s.ov;
    await cutAt(s, point);
    // A set exists only once its journal does, and is completed by the run that finishes it.
    if (point === 'journal') expect(fs.existsSync(layout.backupsDir) ? fs.readdirSync(layout.backupsDir) : []).toEqual([]);
    assertNothingLost('kill -9', `cut at ${point}: stopped`, layout, original);
    const again = await reconcile(s);
    expect(again.upToDate).toBe(true);
    expect(fs.existsSync(layout.journal)).toBe(false);
    // Nor the progress a cut between the journal's removal and its progress file's left behind.
    expect(fs.existsSync(progressFile(layout))).toBe(false);
    expect(outcome(s)).toEqual(want);
    for (const set of listSets(layout)) {
      const held = snapshot(path.join(set.dir, 'upper'));
      expect(set.index!.entries.filter((e) => !held.has(e.path)), set.name).toEqual([]);
    }
    assertNothingLost('kill -9', `cut at ${point}`, layout, original);
  });

  it('a cut at sidecars comes after the sidecar is written and before its batch is recorded', async () => {
    const { s } = await buildCase(scratch.next(), KINDS);
    const { layout } = s.ov;
    await cutAt(s, 'sidecars');
    expect(fs.readFileSync(path.join(layout.upper, 'etc/c.rpmnew'), 'utf8')).toBe('c v2\n');
    const journal = JSON.parse(fs.readFileSync(layout.journal, 'utf8')) as { plan: { actions: { kind: string }[] } };
    const sidecarAt = journal.plan.actions.findIndex((a) => a.kind === 'write-sidecar');
    expect(readProgress(layout, journal.plan.actions.length).done).toBeLessThanOrEqual(sidecarAt);
  });

  it('the progress file gone while the journal stays (a cut between their removals): the replay converges', async () => {
    const want = await reference();
    const { s, original } = await buildCase(scratch.next(), KINDS);
    const { layout } = s.ov;
    // A power cut right where the journal is about to be removed.
    const rm = fs.rmSync;
    const spy = vi.spyOn(fs, 'rmSync').mockImplementation((p, o) => {
      if (String(p) === layout.journal) throw Object.assign(new Error('cut'), { code: 'EIO' });
      return rm(p, o);
    });
    await expect(reconcile(s)).rejects.toThrow(`remove ${layout.journal}: EIO`);
    spy.mockRestore();
    expect(fs.existsSync(layout.journal)).toBe(true);
    const again = await reconcile(s);
    expect(again.resumed).toBe(true);
    expect(fs.existsSync(layout.journal)).toBe(false);
    expect(outcome(s)).toEqual(want);
    assertNothingLost('kill -9', 'cut between removing the progress file and the journal', layout, original);
  });

  it.each([KINDS, OLDER])('every action replayed from the first, its later actions already done ($name): each is done already, the result the same', async (spec) => {
    const want = await reference(spec);
    const { s, original } = await buildCase(scratch.next(), spec);
    const { layout } = s.ov;
    const total = (await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' }, dryRun: true })).plan.actions.length;
    await cutAt(s, String(total));
    fs.rmSync(progressFile(layout));
    const again = await reconcile(s);
    expect(again.resumed).toBe(true);
    expect(outcome(s)).toEqual(want);
    expect(readState(layout)?.lastReconcile?.conflicts).toBe(0);
    assertNothingLost('kill -9', `whole plan replayed after its last action (${spec.name})`, layout, original);
  });
});

describe('a damaged journal', () => {
  it("a set name that leaves the backups directory: refused naming the journal's field, nothing moved anywhere", async () => {
    const { s, original, root } = await buildCliCase(scratch.next(), KINDS, CONF_TEXT);
    const { layout } = s.ov;
    await cutAt(s, '1');
    const j = JSON.parse(fs.readFileSync(layout.journal, 'utf8'));
    fs.writeFileSync(layout.journal, JSON.stringify({ ...j, set: '../../../escaped' }));
    const upper = snapshot(layout.upper);
    for (const args of [['reconcile', 'opt'], ['run', 'opt']]) {
      const r = await cli(root, args);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(`state-overlay: ${layout.journal}: set: expected a backup set name (STAMP-GENERATION), got "../../../escaped"`);
    }
    expect(snapshot(layout.upper)).toEqual(upper);
    expect(fs.existsSync(path.join(root, 'var/lib/escaped'))).toBe(false);
    assertNothingLost('corrupt state', 'journal: a set name escaping the backups directory', layout, original);
  });

  it('malformed actions: a clear error naming the journal and the field, never a TypeError', async () => {
    const { s, original, root } = await buildCliCase(scratch.next(), KINDS, CONF_TEXT);
    const { layout } = s.ov;
    await cutAt(s, '1');
    const j = JSON.parse(fs.readFileSync(layout.journal, 'utf8'));
    const bad = structuredClone(j);
    bad.plan.actions[3].path = 42;
    fs.writeFileSync(layout.journal, JSON.stringify(bad));
    const r = await cli(root, ['reconcile', 'opt']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`state-overlay: ${layout.journal}: plan.actions[3].path: expected a relative path of raw bytes`);
    expect(r.stderr).not.toContain('TypeError');
    assertNothingLost('corrupt state', 'journal: an action without a path', layout, original);
  });

  it('a progress record beyond the plan: refused naming the progress file, nothing skipped', async () => {
    const { s, original, root } = await buildCliCase(scratch.next(), KINDS, CONF_TEXT);
    const { layout } = s.ov;
    await cutAt(s, '1');
    const upper = snapshot(layout.upper);
    fs.writeFileSync(progressFile(layout), '1\n999\n');
    const r = await cli(root, ['reconcile', 'opt']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^state-overlay: ${progressFile(layout)}:2: 999 actions done: the journal has \\d+$`));
    expect(snapshot(layout.upper)).toEqual(upper);
    expect(readState(layout)?.generation).toBe('gen1');
    assertNothingLost('corrupt state', 'progress beyond the plan', layout, original);
  });
});

describe('damaged state files other than the journal', () => {
  it("a backup set's index with a field out of range: backups and restore refuse naming the file and the field", async () => {
    const { s, original, root } = await buildCliCase(scratch.next(), KINDS, CONF_TEXT);
    const first = await reconcile(s);
    const file = path.join(s.ov.layout.backupsDir, first.backupSet!, 'index.json');
    const index = JSON.parse(fs.readFileSync(file, 'utf8'));
    index.entries[0].path = '../../../../etc/shadow';
    fs.writeFileSync(file, JSON.stringify(index));
    for (const args of [['backups', 'opt'], ['restore', 'opt', first.backupSet!]]) {
      const r = await cli(root, args);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(`state-overlay: ${file}: entries[0].path: expected a non-empty binary string (a relative path of raw bytes)`);
    }
    assertNothingLost('corrupt state', 'backup index: an entry path escaping the set', s.ov.layout, original);
  });

  it('state.json with a damaged last reconcile: status and reconcile refuse naming the field', async () => {
    const { s, original, root } = await buildCliCase(scratch.next(), KINDS, CONF_TEXT);
    await reconcile(s);
    const state = JSON.parse(fs.readFileSync(s.ov.layout.stateFile, 'utf8'));
    state.lastReconcile.dropped = 'many';
    fs.writeFileSync(s.ov.layout.stateFile, JSON.stringify(state));
    for (const args of [['status', 'opt'], ['reconcile', 'opt']]) {
      const r = await cli(root, args);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(`state-overlay: ${s.ov.layout.stateFile}: lastReconcile.dropped: expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got "many"`);
    }
    assertNothingLost('corrupt state', 'state.json: a count that is not a number', s.ov.layout, original);
  });

  it('a manifest record with file type bits in its mode: refused naming the record (the digest resealed) or the digest, the upper untouched', async () => {
    const { s, original, root } = await buildCliCase(scratch.next(), KINDS, CONF_TEXT);
    const file = stateManifestFile(s.ov.layout, readState(s.ov.layout))!;
    const bytes = fs.readFileSync(file);
    // Version 2: an 8-byte header, then the first record (u32 length, u8 type, u32 mode).
    bytes[14]! |= 0x80;
    fs.writeFileSync(file, bytes);
    const damaged = await cli(root, ['reconcile', 'opt']);
    expect(damaged.exitCode, damaged.stderr).toBe(1);
    expect(damaged.stderr.split('\n')[0]).toMatch(new RegExp(`^state-overlay: ${file}: digest: the trailer records [0-9a-f]{64}, the bytes before it hash to [0-9a-f]{64} \\(a damaged manifest\\)$`));
    // A forger who fixes the trailer's digest too meets the record's own check.
    crypto.createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest().copy(bytes, bytes.length - 32);
    fs.writeFileSync(file, bytes);
    const r = await cli(root, ['reconcile', 'opt']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^state-overlay: ${file}: record at byte 8: mode: expected permission bits \\(at most 0o7777\\), got 0o10\\d{4}$`));
    expect(snapshot(s.ov.layout.upper)).toEqual(original);
    assertNothingLost('corrupt state', 'manifest: a mode with file type bits', s.ov.layout, original);
  });
});

describe('a plan whose premises changed before it was finished', () => {
  it('the base file of a sidecar changed (a rollback after a cut): the run completes, the sidecar a warning, the next run converges', async () => {
    const { s, original } = await buildCase(scratch.next(), KINDS);
    const { layout } = s.ov;
    await cutAt(s, '1');
    fs.writeFileSync(path.join(s.ov.base, 'etc/c'), 'c v1\n');
    const log = memoryLog();
    const again = await reconcile(s, 'gen2', log);
    expect(again.resumed).toBe(true);
    expect(fs.existsSync(layout.journal)).toBe(false);
    expect(fs.existsSync(path.join(layout.upper, 'etc/c.rpmnew'))).toBe(false);
    expect(log.events).toContainEqual(expect.objectContaining({ event: 'reconcile.skip', path: 'etc/c', kind: 'write-sidecar' }));
    expect(readState(layout)?.lastReconcile).toMatchObject({ to: 'gen2', sidecars: 0, conflicts: 1 });
    expect((await reconcile(s)).upToDate).toBe(true);
    assertNothingLost('swap attacks', 'base file of a sidecar changed after a cut', layout, original);
  });

  /** A premise of the plan broken after the cut, the warning it leads to, and what must be left as it is. */
  interface Broken {
    readonly name: string;
    readonly breakIt: (s: Scratch, original: Map<string, string>) => void;
    readonly path: string;
    readonly kind: string;
    readonly left: Record<string, string>;
  }
  /** Written by hand in the upper after the cut: a new entry of the host's, to be left as it is. */
  const byHand = (p: string, text: string) => (s: Scratch, original: Map<string, string>) => {
    fs.writeFileSync(path.join(s.ov.layout.upper, p), text);
    original.set(p, snapshot(s.ov.layout.upper).get(p)!);
  };
  const BROKEN: Broken[] = [
    { name: "a sidecar's base file removed", breakIt: (s) => fs.rmSync(path.join(s.ov.base, 'etc/c')), path: 'etc/c', kind: 'write-sidecar', left: { 'etc/c': 'c edited\n' } },
    { name: 'a sidecar name taken in the upper with other content', breakIt: byHand('etc/c.rpmnew', 'by hand\n'), path: 'etc/c', kind: 'write-sidecar', left: { 'etc/c': 'c edited\n', 'etc/c.rpmnew': 'by hand\n' } },
    { name: 'a saved name taken in the upper', breakIt: byHand('etcr/r.rpmsave', 'by hand\n'), path: 'etcr/r', kind: 'rename', left: { 'etcr/r': 'r edited\n', 'etcr/r.rpmsave': 'by hand\n' } },
    { name: 'a directory to remove no longer empty', breakIt: byHand('gone/new', 'by hand\n'), path: 'gone', kind: 'remove-empty-dir', left: { 'gone/new': 'by hand\n' } },
    {
      name: 'an entry to move deleted by hand',
      breakIt: (s, original) => {
        fs.rmSync(path.join(s.ov.layout.upper, 'gone/g'));
        original.delete('gone/g');
      },
      path: 'gone/g',
      kind: 'move-to-backups',
      left: {},
    },
  ];

  it.each(BROKEN)('$name after a cut: the run completes what is safe, the rest a warning; the next run converges', async (b) => {
    const { s, original } = await buildCase(scratch.next(), KINDS);
    const { layout } = s.ov;
    await cutAt(s, '1');
    b.breakIt(s, original);
    const log = memoryLog();
    const again = await reconcile(s, 'gen2', log);
    expect(again.resumed).toBe(true);
    expect(fs.existsSync(layout.journal)).toBe(false);
    const skips = log.events.filter((e) => e.event === 'reconcile.skip');
    expect(skips).toEqual([expect.objectContaining({ path: b.path, kind: b.kind })]);
    expect(readState(layout)?.lastReconcile).toMatchObject({ to: 'gen2', conflicts: 1 });
    for (const [p, text] of Object.entries(b.left)) expect(fs.readFileSync(path.join(layout.upper, p), 'utf8'), p).toBe(text);
    // Everything else was carried out.
    expect(fs.existsSync(path.join(layout.upper, 'bin/f'))).toBe(false);
    expect(fs.existsSync(path.join(layout.upper, 'attrs'))).toBe(false);
    expect((await reconcile(s)).upToDate).toBe(true);
    assertNothingLost('swap attacks', `${b.name} after a cut`, layout, original);
  });

  it('a shipped manifest that does not match the base: the first run completes, the sidecar a warning in its report', async () => {
    const { s, original } = await buildCase(scratch.next(), KINDS);
    const { layout } = s.ov;
    const shipped = path.join(s.root, 'usr/lib/state-overlay/opt.manifest');
    fs.mkdirSync(path.dirname(shipped), { recursive: true });
    await buildManifest(s.ov.base, shipped);
    // Changed after the image was built, its size kept: what the sampled check of the manifest cannot see.
    fs.writeFileSync(path.join(s.ov.base, 'etc/c'), 'c V2\n');
    const current = { generation: `manifest:${manifestDigest(shipped)}`, shipped };
    const r = await reconcileOverlay(s.ov, memoryLog(), { current });
    expect(r.plan.conflicts).toEqual([expect.objectContaining({ path: 'etc/c', reason: expect.stringContaining('etc/c changed since it was hashed: sidecar not written') })]);
    expect(r.sidecars).toBe(0);
    expect(fs.existsSync(layout.journal)).toBe(false);
    expect((await reconcileOverlay(s.ov, memoryLog(), { current })).upToDate).toBe(true);
    assertNothingLost('corrupt state', 'shipped manifest that does not match the base', layout, original);
  });
});
