// The bench's C anchors on a tiny tree (no timings): ostree's prune deletes exactly what
// Reconcile=all drops, and the crash-safe floor carries out the product's own plan.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAnchors, crashSafeFloor, differences, droppedPaths, ostreePrune, readPruneList, writeFloorPlan, type Anchors, type JsonAction } from '../../bench/anchors.js';
import { planJson } from '../../src/cli/render/plan.js';
import { run } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { scratchOverlay, snapshot, writeTree, type Spec } from '../ops/scratch.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-anchors-'));
let anchors: Anchors;
beforeAll(async () => {
  anchors = await buildAnchors(tmp);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const BASE: Record<string, Spec> = {
  'bin/tool': 'tool v1\n',
  'bin/other': 'other v1\n',
  'etc/app.conf': 'conf v1\n',
  'lib/dir/x': 'x v1\n',
  'lib/same': 'same\n',
  link: { link: 'bin/tool' },
  dirlink: { link: 'lib' },
  todelete: 'delete me\n',
  'replaced/y': 'y v1\n',
  'café menu/item': 'item\n',
};
const UPPER: Record<string, Spec> = {
  newstate: 'state\n',
  lib: { dir: true },
  'lib/newfile': 'state in a merged dir\n',
  'lib/same': 'same\n',
  'lib/dir': { dir: true },
  'lib/dir/x': 'x edited\n',
  'var-like/cache/blob': 'blob\n',
  'bin/tool': 'tool edited\n',
  'etc/app.conf': { file: 'conf v1\n', mode: 0o600 },
  link: { link: 'bin/other' },
  'bin/other': { dir: true, opaque: true },
  'bin/other/inside': 'type change\n',
  todelete: { whiteout: 'chardev' },
  replaced: { dir: true, opaque: true },
  'replaced/z': 'z mine\n',
  'state-opaque': { dir: true, opaque: true },
  'state-opaque/a': 'a\n',
  dirlink: { dir: true },
  'dirlink/f': 'a dir where the base has a symlink\n',
  'café menu': { dir: true },
  'café menu/item': 'item edited\n',
};

/** A base recorded at g0, changed (g1), and UPPER over it; returns the scratch overlay. */
async function setUp(name: string, reconcile: 'all' | 'changed') {
  const root = path.join(tmp, name);
  const s = scratchOverlay(root, { reconcile });
  await writeTree(s.ov.base, BASE);
  await s.record('g0');
  fs.writeFileSync(path.join(s.ov.base, 'bin/tool'), 'tool v2\n');
  fs.writeFileSync(path.join(s.ov.base, 'bin/new'), 'new in v2\n');
  await writeTree(s.ov.layout.upper, UPPER);
  return s;
}

/** A path as the snapshots and the prune list spell it: one char per byte. */
const L = (p: string): string => Buffer.from(p).toString('latin1');
const copy = async (from: string, to: string): Promise<void> => void (await run('cp', ['-a', from, to]));

describe('bench anchors', () => {
  it('ostree-prune deletes exactly what Reconcile=all drops, and keeps the rest as it was', async () => {
    const s = await setUp('all', 'all');
    const upper = s.ov.layout.upper;
    const pruneUpper = path.join(tmp, 'all-pruned');
    await copy(upper, pruneUpper);
    const before = snapshot(upper);
    const list = path.join(tmp, 'all.list');
    const pruned = await ostreePrune(anchors, s.ov.base, pruneUpper, list);
    const r = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'g1' } });
    const dropped = droppedPaths(planJson(r.plan).actions as JsonAction[]);

    expect(readPruneList(list).sort()).toEqual(['bin/other', 'bin/tool', L('café menu/item'), 'dirlink', 'etc/app.conf', 'lib/dir/x', 'lib/same', 'link', 'replaced', 'todelete']);
    expect(pruned.deleted).toBe(10);
    expect(differences(readPruneList(list), dropped)).toBeNull();
    // Both leave the same upper: the state, the merged dirs, and nothing else.
    expect(snapshot(pruneUpper)).toEqual(snapshot(upper));
    expect([...snapshot(pruneUpper).keys()].sort()).toEqual(
      [...before.keys()].filter((p) => !['bin/', 'dirlink', 'etc/app.conf', 'link', 'replaced', 'todelete', 'lib/same', 'lib/dir/x', L('café menu/item')].some((d) => p === d || p.startsWith(d.endsWith('/') ? d : `${d}/`))).sort(),
    );
  });

  it('differences() names the paths each side has alone', () => {
    expect(differences(['a', 'b'], ['b', 'a'])).toBeNull();
    const msg = differences(['a', 'b', 'caf\xc3\xa9'], ['b', 'c']);
    expect(msg).toContain('deleted by the prune only 2 ("a", "café")');
    expect(msg).toContain('dropped by Reconcile=all only 1 ("c")');
  });

  it('crash-safe-floor carries out the plan: the upper ends as the product leaves it, the dropped entries in the set', async () => {
    const s = await setUp('changed', 'changed');
    const upper = s.ov.layout.upper;
    const floorUpper = path.join(tmp, 'changed-floor');
    await copy(upper, floorUpper);
    const dry = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'g1' }, dryRun: true });
    const actions = planJson(dry.plan).actions as JsonAction[];
    const planFile = path.join(tmp, 'changed.plan');
    const steps = writeFloorPlan(actions, planFile);
    expect(steps).toBe(actions.filter((a) => a.kind !== 'keep').length);
    expect(steps).toBeGreaterThan(0);
    const set = path.join(tmp, 'changed-set');
    const journal = path.join(tmp, 'changed.journal');
    const r = await crashSafeFloor(anchors, planFile, { base: s.ov.base, upper: floorUpper, set, journal });
    expect(r.actions).toBe(steps);
    expect(fs.readFileSync(journal, 'utf8').endsWith('done\n')).toBe(true);

    await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'g1' } });
    expect(snapshot(floorUpper)).toEqual(snapshot(upper));
    const moved = droppedPaths(actions);
    expect(moved.length).toBeGreaterThan(0);
    for (const p of moved) expect(fs.lstatSync(path.join(set, 'upper', Buffer.from(p, 'latin1').toString()))).toBeTruthy();
  });
});
