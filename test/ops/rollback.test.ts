// Rule 11 on real trees: v1 → v2 → v1 brings back what v1 → v2 dropped, byte-identical, and keeps what the
// host wrote under v2; v1 → v2 → v3 restores nothing; a path the host edited again under v2 keeps that edit.
import fs from 'node:fs';
import path from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readIndex } from '../../src/backups/index-file.js';
import { listSets, pruneSets, setIndexFile } from '../../src/backups/sets.js';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { restoreBackup } from '../../src/ops/restore.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, snapshot, snapshotFull, writeTree, type Scratch } from './scratch.js';

let root: string;
beforeEach(() => {
  root = scratch('so-rollback-');
});
afterEach(async () => {
  await removeTree(root);
});

const V1 = {
  'bin/tool': 'tool v1\n',
  'bin/other': 'other v1\n',
  'share/doc': 'doc v1\n',
  'opq/x': 'x v1\n',
  'etc/app.conf': 'app v1\n',
  'etc/replace/r.conf': 'r v1\n',
  'lib/same': 'same\n',
};
const V2 = { 'bin/tool': 'tool v2\n', 'bin/other': 'other v2\n', 'share/doc': 'doc v2\n', 'opq/x': 'x v2\n', 'etc/app.conf': 'app v2\n', 'etc/replace/r.conf': 'r v2\n' };
const CONFIG = { paths: { config: ['/opt/etc/**'], configReplace: ['/opt/etc/replace/**'] } };

/** Base v1 recorded as gen1, the host's changes, then base v2 reconciled as gen2 (its manifest recorded). */
async function atV2(): Promise<{ s: Scratch; before: Map<string, string>; beforeFull: Map<string, string> }> {
  const s = scratchOverlay(root, CONFIG);
  await writeTree(s.ov.base, V1);
  await s.record('gen1');
  const u = s.ov.layout.upper;
  await writeTree(u, {
    'bin/tool': { file: 'tool edited\n', mode: 0o750, uid: 12, gid: 34 },
    'share/doc': { whiteout: 'chardev' },
    opq: { dir: true, opaque: true },
    'opq/mine': 'mine\n',
    'etc/app.conf': 'app edited\n',
    'etc/replace/r.conf': 'r edited\n',
    'lib/same': 'same, edited\n',
    'data/db': 'state under v1\n',
  });
  setAttributeSync(path.join(u, 'bin/tool'), 'user.note', 'the host\'s');
  fs.utimesSync(path.join(u, 'bin/tool'), 1_000_000_000, 1_100_000_000.5);
  const before = snapshot(u);
  const beforeFull = snapshotFull(u);
  await writeTree(s.ov.base, V2);
  await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
  await s.record('gen2');
  return { s, before, beforeFull };
}

const files = (m: Map<string, string>) => new Map([...m].filter(([, v]) => !v.startsWith('dir ')));

describe('a rollback v1 → v2 → v1', () => {
  it('brings back every edit and deletion v1 → v2 dropped, byte-identical, and keeps what the host wrote under v2', async () => {
    const { s, before, beforeFull } = await atV2();
    const u = s.ov.layout.upper;
    expect(fs.existsSync(path.join(u, 'bin/tool'))).toBe(false);
    expect(fs.readFileSync(path.join(u, 'etc/app.conf.rpmnew'), 'utf8')).toBe('app v2\n');
    expect(fs.readFileSync(path.join(u, 'etc/replace/r.conf.rpmsave'), 'utf8')).toBe('r edited\n');
    await writeTree(u, { 'data/new': 'state under v2\n' });
    await writeTree(s.ov.base, V1);
    const log = memoryLog();
    const r = await reconcileOverlay(s.ov, log, { current: { generation: 'gen1' } });
    expect(r).toMatchObject({ from: 'gen2', to: 'gen1', restored: 3, conflicts: 0 });
    expect(r.plan.rollbackSet).toMatch(/-gen2$/);
    const after = snapshot(u);
    expect(after.get('data/new')).toBeDefined();
    after.delete('data/new');
    expect([...after].sort()).toEqual([...before].sort());
    // The entries that came back are the very ones: content, mode, owner, xattrs and times.
    const full = snapshotFull(u);
    for (const [p, v] of files(beforeFull)) if (p !== 'data/new') expect(full.get(p), p).toBe(v);
    expect(log.events.flatMap((e) => (e.event === 'rollback.restore' ? [[e.path, e.rule]] : []))).toEqual([['bin/tool', 11], ['opq', 11], ['share/doc', 11]]);
    // What the rollback moved (the sidecar v1 → v2 wrote) is in the new set; the old set held nothing more and went.
    const sets = listSets(s.ov.layout);
    expect(sets.map((x) => x.index?.from)).toEqual(['gen2']);
    expect(sets[0]!.index!.entries.map((e) => [e.path, e.rule])).toEqual([['etc/app.conf.rpmnew', 11]]);
  });

  it('keeps an edit the host made again under v2, and leaves the older one in its set for restore', async () => {
    const { s } = await atV2();
    const u = s.ov.layout.upper;
    await writeTree(u, { 'etc/replace/r.conf': 'r edited again under v2\n', 'bin/tool': 'tool edited under v2\n' });
    await writeTree(s.ov.base, V1);
    const r = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen1' } });
    expect(r.plan.conflicts.map((c) => [c.path, c.rule])).toEqual([['bin/tool', 11]]);
    // bin/tool edited under v2 is judged by the table (rule 3: to the new set), never replaced by the older edit.
    const sets = listSets(s.ov.layout);
    const old = sets.find((x) => x.index?.from === 'gen1')!;
    const fresh = sets.find((x) => x.index?.from === 'gen2')!;
    expect(fresh.index!.entries.map((e) => e.path)).toContain('bin/tool');
    expect(fs.readFileSync(path.join(fresh.dir, 'upper/bin/tool'), 'utf8')).toBe('tool edited under v2\n');
    expect(readIndex(setIndexFile(s.ov.layout, old.name)).entries.map((e) => e.path)).toEqual(['bin/tool']);
    // r.conf: the newer edit is moved aside by the table (rule 3 under replace) and stays in the upper; the
    // older saved one goes to the new set, as an older .rpmsave does.
    expect(fs.readFileSync(path.join(u, 'etc/replace/r.conf.rpmsave'), 'utf8')).toBe('r edited again under v2\n');
    expect(fs.readFileSync(path.join(fresh.dir, 'upper/etc/replace/r.conf.rpmsave'), 'utf8')).toBe('r edited\n');
    // The rest of the set comes back; what is left of it is restored by restore.
    expect(fs.lstatSync(path.join(u, 'share/doc')).isCharacterDevice()).toBe(true);
    await restoreBackup(s.ov, memoryLog(), old.name, []);
    expect(fs.readFileSync(path.join(u, 'bin/tool'), 'utf8')).toBe('tool edited\n');
  });

  it('restores nothing on v1 → v2 → v3', async () => {
    const { s } = await atV2();
    await writeTree(s.ov.base, { ...V1, 'bin/tool': 'tool v3\n' });
    const r = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen3' } });
    expect(r.restored).toBe(0);
    expect(r.plan.actions.filter((a) => a.rule === 11)).toEqual([]);
    expect(fs.existsSync(path.join(s.ov.layout.upper, 'bin/tool'))).toBe(false);
  });

  it('with Rollback=ignore, plans the change back by the table alone', async () => {
    const { s } = await atV2();
    await writeTree(s.ov.base, V1);
    const ov = { ...s.ov, config: { ...s.ov.config, rollback: 'ignore' as const } };
    const r = await reconcileOverlay(ov, memoryLog(), { current: { generation: 'gen1' } });
    expect(r.restored).toBe(0);
    expect(r.plan.rollbackSet).toBeUndefined();
    expect(fs.existsSync(path.join(s.ov.layout.upper, 'bin/tool'))).toBe(false);
  });

  it('undoes a reconcile that moved nothing, only renamed: its set records the rename and retention keeps it until then', async () => {
    const s = scratchOverlay(root, CONFIG);
    await writeTree(s.ov.base, V1);
    await s.record('gen1');
    await writeTree(s.ov.layout.upper, { 'etc/replace/r.conf': 'r edited\n' });
    await writeTree(s.ov.base, V2);
    await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
    await s.record('gen2');
    const [set, ...more] = listSets(s.ov.layout);
    expect(more).toEqual([]);
    expect(set!.index).toMatchObject({ entries: [], wrote: [{ path: 'etc/replace/r.conf.rpmsave', kind: 'rename', from: 'etc/replace/r.conf' }] });
    expect(pruneSets(s.ov.layout, 5)).toEqual([]);
    await writeTree(s.ov.base, V1);
    const r = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen1' } });
    expect(r.plan.actions.filter((a) => a.rule === 11).map((a) => `${a.kind} ${a.path}`)).toEqual(['rename etc/replace/r.conf.rpmsave']);
    expect(fs.readFileSync(path.join(s.ov.layout.upper, 'etc/replace/r.conf'), 'utf8')).toBe('r edited\n');
    // Undone, the set records nothing more: retention removed it.
    expect(listSets(s.ov.layout).map((x) => x.name)).not.toContain(set!.name);
  });
});
