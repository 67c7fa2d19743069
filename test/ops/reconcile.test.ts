import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listSets } from '../../src/backups/sets.js';
import { run, tryRun } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { readState } from '../../src/state/state-file.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, snapshot, writeTree } from './scratch.js';

let root: string;
beforeEach(() => {
  root = scratch('so-reconcile-');
});
afterEach(async () => {
  await tryRun('umount', ['-R', path.join(root, 'opt')]);
  await removeTree(root);
});

async function upgradeScenario(over: Parameters<typeof scratchOverlay>[1] = {}) {
  const s = scratchOverlay(root, over);
  await writeTree(s.ov.base, {
    'app/bin/tool': 'tool v1\n',
    'app/etc/app.conf': 'conf v1\n',
    'app/etc/same.conf': 'same\n',
    'app/lib/gone.so': 'gone v1\n',
    'app/share/doc': 'doc v1\n',
    'app/share/untouched': 'untouched\n',
  });
  await s.record('gen1');
  await writeTree(s.ov.layout.upper, {
    'app/bin/tool': 'tool edited\n', // rule 3: dropped
    'app/etc/app.conf': 'conf edited\n', // config: kept with a sidecar
    'app/etc/same.conf': 'same edited\n', // rule 2
    'app/lib/gone.so': 'gone edited\n', // rule 5
    'app/share/doc': { whiteout: 'chardev' }, // rule 4
    'app/share/untouched': 'untouched\n', // rule 1
    'app/data/state.db': 'state\n', // pure state
  });
  fs.writeFileSync(path.join(s.ov.base, 'app/bin/tool'), 'tool v2\n');
  fs.writeFileSync(path.join(s.ov.base, 'app/etc/app.conf'), 'conf v2\n');
  fs.writeFileSync(path.join(s.ov.base, 'app/share/doc'), 'doc v2\n');
  fs.rmSync(path.join(s.ov.base, 'app/lib/gone.so'));
  return s;
}

describe('reconcileOverlay on a scratch root', () => {
  it('applies the decision table, moves dropped entries to one backup set and records the generation', async () => {
    const s = await upgradeScenario({ paths: { config: ['/opt/app/etc/**'] } });
    const log = memoryLog();
    const r = await reconcileOverlay(s.ov, log, { current: { generation: 'gen2' } });
    expect(r).toMatchObject({ from: 'gen1', to: 'gen2', upToDate: false, dropped: 4, sidecars: 1, removedDirs: 3, kept: 2, conflicts: 0 });
    const upper = snapshot(s.ov.layout.upper);
    expect([...upper.keys()].sort()).toEqual(['app', 'app/data', 'app/data/state.db', 'app/etc', 'app/etc/app.conf', 'app/etc/app.conf.rpmnew', 'app/etc/same.conf']);
    expect(fs.readFileSync(path.join(s.ov.layout.upper, 'app/etc/app.conf.rpmnew'), 'utf8')).toBe('conf v2\n');
    const [set, ...more] = listSets(s.ov.layout);
    expect(more).toEqual([]);
    expect(set!.name).toMatch(/^\d{8}T\d{9}Z-gen2$/);
    expect(set!.index!.entries.map((e) => [e.path, e.rule, e.kind])).toEqual([
      ['app/bin/tool', 3, 'shadow'],
      ['app/lib/gone.so', 5, 'state'],
      ['app/share/doc', 4, 'whiteout'],
      ['app/share/untouched', 1, 'shadow'],
    ]);
    expect(fs.readFileSync(path.join(set!.dir, 'upper/app/bin/tool'), 'utf8')).toBe('tool edited\n');
    expect(readState(s.ov.layout)).toMatchObject({ schemaVersion: 1, generation: 'gen2', manifest: null, lastReconcile: { from: 'gen1', to: 'gen2', dropped: 4, backupSet: set!.name } });
    expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
    expect(log.events.filter((e) => e.event === 'reconcile.drop').map((e) => (e as { path: string }).path)).toEqual(['app/bin/tool', 'app/lib/gone.so', 'app/share/doc', 'app/share/untouched']);

    const again = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
    expect(again).toMatchObject({ upToDate: true, actions: 0 });
    expect(snapshot(s.ov.layout.upper)).toEqual(upper);
  });

  it('plans without changing anything in a dry run', async () => {
    const s = await upgradeScenario();
    const before = snapshot(s.ov.layout.upper);
    const r = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' }, dryRun: true });
    expect(r.plan.actions.filter((a) => a.kind === 'move-to-backups').map((a) => `${a.path} ${a.rule}`)).toEqual([
      'app/bin/tool 3', 'app/etc/app.conf 3', 'app/lib/gone.so 5', 'app/share/doc 4', 'app/share/untouched 1',
    ]);
    expect(snapshot(s.ov.layout.upper)).toEqual(before);
    expect(readState(s.ov.layout)?.generation).toBe('gen1');
    expect(listSets(s.ov.layout)).toEqual([]);
  });

  it('treats a missing recorded manifest as rule 10 (UnknownBase=prune)', async () => {
    const s = await upgradeScenario();
    fs.rmSync(s.ov.layout.manifestsDir, { recursive: true });
    const r = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
    expect(r.plan.actions.map((a) => `${a.kind} ${a.path} ${a.rule}`)).toEqual([
      'move-to-backups app/bin/tool 10', 'move-to-backups app/etc/app.conf 10', 'move-to-backups app/etc/same.conf 10',
      'move-to-backups app/share/untouched 1', 'remove-empty-dir app/etc 8', 'remove-empty-dir app/bin 8', 'keep app/share/doc 10',
    ]);
  });

  it('refuses while the overlay is mounted', async () => {
    const s = await upgradeScenario();
    fs.mkdirSync(s.ov.layout.work, { recursive: true });
    const { upper, work, target } = s.ov.layout;
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${target},upperdir=${upper},workdir=${work},index=off,metacopy=off,redirect_dir=off,xino=off`, target]);
    await expect(reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } })).rejects.toThrow(
      `overlay opt is mounted on ${target}: unmount it first (this runs offline)`,
    );
    await run('umount', [target]);
    expect(readState(s.ov.layout)?.generation).toBe('gen1');
  });

  it('keeps Backups.Keep sets', async () => {
    const s = scratchOverlay(root, { backups: { keep: 2 } });
    await writeTree(s.ov.base, { f: 'v0\n' });
    await s.record('g0');
    for (let i = 1; i <= 4; i++) {
      await writeTree(s.ov.layout.upper, { f: `edit ${i}\n` });
      fs.writeFileSync(path.join(s.ov.base, 'f'), `v${i}\n`);
      await reconcileOverlay(s.ov, memoryLog(), { current: { generation: `g${i}` } });
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(listSets(s.ov.layout).map((x) => x.name.replace(/^\S+?Z-/, ''))).toEqual(['g3', 'g4']);
  });
});

describe('reconcileOverlay refuses', () => {
  it('a missing base, changing nothing', async () => {
    const s = await upgradeScenario();
    const before = snapshot(s.ov.layout.upper);
    await run('mv', [s.ov.base, `${s.ov.base}.away`]);
    await expect(reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } })).rejects.toMatchObject({ code: 'usage', message: `mountpoint ${s.ov.base} does not exist` });
    expect(snapshot(s.ov.layout.upper)).toEqual(before);
    expect(readState(s.ov.layout)?.generation).toBe('gen1');
  });
});
