import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIndex, type IndexEntry } from '../../src/backups/index-file.js';
import { readRestored } from '../../src/backups/restored.js';
import { restoreBackup, restorePath, selectEntries } from '../../src/ops/restore.js';
import { vacuumOverlay } from '../../src/ops/vacuum.js';
import { FAULT_ENV } from '../../src/txn/fault.js';
import { isSetName, listSets, pruneSets, setName } from '../../src/backups/sets.js';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { rel } from '../model/rel.js';
import { makeDeep, removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, snapshot, writeTree } from './scratch.js';

describe('set names', () => {
  it('start with a sortable UTC stamp and keep the generation in safe characters', () => {
    const at = new Date('2026-11-23T16:22:33.123Z');
    expect(setName(at, 'tree:abc')).toBe('20261123T162233123Z-tree:abc');
    expect(setName(at, 'command:a b/c')).toBe('20261123T162233123Z-command:a_b_c');
    expect(isSetName('20261123T162233123Z-tree:abc')).toBe(true);
    for (const bad of ['x', '20261123T162233123Z-', '../20261123T162233123Z-a', '20261123T162233123Z-a/b']) expect(isSetName(bad)).toBe(false);
  });

  it('a generation holding ".." still names a set that can be listed, restored and pruned', () => {
    const at = new Date('2026-11-23T16:22:33.123Z');
    for (const g of ['command:v1..2', 'command:..', 'tree:a...b', 'command:../../etc']) {
      const name = setName(at, g);
      expect(isSetName(name), name).toBe(true);
      expect(name.includes('..'), name).toBe(false);
    }
    expect(setName(at, 'command:v1..2')).toBe('20261123T162233123Z-command:v1_2');
  });
});

describe('index files', () => {
  const cases: Array<[string, string]> = [
    ['{', 'F: not JSON: '],
    ['{"version":2,"set":"s","entries":[]}', 'F: not a version 1 backup index'],
    ['{"version":1,"set":"s","entries":[{"path":""}]}', 'F: entries[0].path: expected a non-empty binary string'],
    ['{"version":1,"set":"s","entries":[{"path":"\\u0100"}]}', 'F: entries[0].path: expected a non-empty binary string'],
  ];
  for (const [text, msg] of cases) it(`rejects ${text}`, () => expect(() => parseIndex(text, 'F')).toThrow(msg));

  const entry = { path: 'bin/f', display: 'bin/f', kind: 'shadow', type: 'file', rule: 3, reason: 'r' };
  const index = { version: 1, overlay: 'opt', set: '20260101T000000000Z-g', origin: 'reconcile', mode: 'changed', from: null, to: 'g', createdAt: 'now', entries: [entry] };
  it('reads back every field', () => {
    expect(parseIndex(JSON.stringify(index), 'F')).toEqual(index);
    const reset = { ...index, origin: 'reset', mode: null, entries: [{ ...entry, rule: null }] };
    expect(parseIndex(JSON.stringify(reset), 'F')).toEqual(reset);
  });
  it.each([
    ['a set name with ..', { ...index, set: '../x' }, 'F: set: expected a backup set name (STAMP-GENERATION), got "../x"'],
    ['an unknown origin', { ...index, origin: 'restore' }, 'F: origin: expected one of reconcile, vacuum or reset, got "restore"'],
    ['a rule out of the table', { ...index, entries: [{ ...entry, rule: 0 }] }, 'F: entries[0].rule: expected a whole number from 1 to 11, got 0'],
    ['no rule in a reconcile set', { ...index, entries: [{ ...entry, rule: null }] }, 'F: entries[0].rule: expected a whole number from 1 to 11, got null'],
    ['a rule in a reset set', { ...index, origin: 'reset', mode: null, entries: [{ ...entry, rule: 3 }] }, 'F: entries[0].rule: expected null (a reset decides by no rule), got 3'],
    ['an unknown type', { ...index, entries: [{ ...entry, type: 'door' }] }, 'F: entries[0].type: expected one of file, dir, symlink, chr, blk, fifo or socket, got "door"'],
    ['a path with ..', { ...index, entries: [{ ...entry, path: '../../etc/shadow' }] }, 'F: entries[0].path: expected a non-empty binary string (a relative path of raw bytes)'],
    ['no display name', { ...index, entries: [{ ...entry, display: 5 }] }, 'F: entries[0].display: expected a string, got 5'],
  ])('refuses %s, naming the field', (_name, value, message) => {
    expect(() => parseIndex(JSON.stringify(value), 'F')).toThrow(message);
  });
});

describe('restore arguments', () => {
  it('takes paths under the mountpoint, absolute or relative, as raw bytes', () => {
    expect(restorePath('/opt', '/opt/app/x')).toBe('app/x');
    expect(restorePath('/opt', 'app/x/')).toBe('app/x');
    expect(restorePath('/opt', 'café')).toBe(Buffer.from('café', 'utf8').toString('latin1'));
    expect(() => restorePath('/opt', '/usr/x')).toThrow('/usr/x: not under /opt');
    expect(() => restorePath('/opt', 'a/../b')).toThrow('a/../b: expected a path below /opt');
  });

  it('selects entries and entries below a directory; a path inside a moved directory names it', () => {
    const e = (p: string): IndexEntry => ({ path: rel(p), display: p, kind: 'shadow', type: 'file', rule: 3, reason: 'r' });
    const entries = [e('a/x'), e('a/y'), e('b')];
    expect(selectEntries(entries, [], 'S')).toEqual(entries);
    expect(selectEntries(entries, [rel('a')], 'S').map((x) => x.path)).toEqual(['a/x', 'a/y']);
    expect(() => selectEntries(entries, [rel('b/inner')], 'S')).toThrow('"b/inner" is not an entry of backup set S: it was moved as part of "b", restore that');
    expect(() => selectEntries(entries, [rel('c')], 'S')).toThrow('"c" is not an entry of backup set S');
  });
});

describe('restore and retention on a scratch root', () => {
  let root: string;
  beforeEach(() => {
    root = scratch('so-backups-');
  });
  afterEach(async () => {
    await removeTree(root);
  });

  /** An upper whose edit, whiteout and the directories holding them a reconcile moved to one backup set. */
  async function droppedSet() {
    const s = scratchOverlay(root);
    await writeTree(s.ov.base, { 'd/sub': { dir: true, mode: 0o750, uid: 3 }, 'd/sub/f': 'v1\n', g: 'g1\n' });
    await s.record('g1');
    await writeTree(s.ov.layout.upper, { d: { dir: true }, 'd/sub': { dir: true, mode: 0o750, uid: 3 }, 'd/sub/f': 'mine\n', g: { whiteout: 'chardev' } });
    const original = snapshot(s.ov.layout.upper);
    fs.writeFileSync(path.join(s.ov.base, 'd/sub/f'), 'v2\n');
    fs.writeFileSync(path.join(s.ov.base, 'g'), 'g2\n');
    const r = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'g2' } });
    return { s, original, r };
  }

  it('brings a whole set back, re-creating removed parents with the base mode and owner', async () => {
    const { s, original, r } = await droppedSet();
    expect(r.plan.actions.map((a) => `${a.kind} ${a.path}`)).toEqual(['move-to-backups d/sub/f', 'move-to-backups g', 'remove-empty-dir d/sub', 'remove-empty-dir d']);
    expect(fs.readdirSync(s.ov.layout.upper)).toEqual([]);
    const done = await restoreBackup(s.ov, memoryLog(), r.backupSet!, []);
    expect(done.restored).toEqual(['d/sub/f', 'g']);
    expect(snapshot(s.ov.layout.upper)).toEqual(original);
    // Emptied, the set is no backup: it is gone from the list, and a repeated restore says it is done.
    expect(listSets(s.ov.layout)).toEqual([]);
    const again = await restoreBackup(s.ov, memoryLog(), r.backupSet!, []);
    expect(again).toMatchObject({ set: r.backupSet, restored: [], alreadyRestoredAt: expect.stringMatching(/^\d{4}-/) });
    expect(snapshot(s.ov.layout.upper)).toEqual(original);
    await expect(restoreBackup(s.ov, memoryLog(), 'nosuch', [])).rejects.toThrow('backup set "nosuch" not found');
  });

  it('a set restored in part stays listed with what it still holds, and goes once the rest is restored', async () => {
    const { s, r } = await droppedSet();
    await restoreBackup(s.ov, memoryLog(), r.backupSet!, ['g']);
    expect(listSets(s.ov.layout).map((x) => x.index!.entries.map((e) => e.path))).toEqual([['d/sub/f']]);
    await restoreBackup(s.ov, memoryLog(), r.backupSet!, ['d/sub/f']);
    expect(listSets(s.ov.layout)).toEqual([]);
    expect(readRestored(s.ov.layout).map((x) => [x.name, x.entries])).toEqual([[r.backupSet, 1]]);
  });

  it('a restore cut short after moving some entries completes on a re-run', async () => {
    const s = scratchOverlay(root);
    await writeTree(s.ov.base, { a: 'a1\n', b: 'b1\n' });
    await s.record('g1');
    await writeTree(s.ov.layout.upper, { a: 'mine a\n', b: 'mine b\n' });
    const original = snapshot(s.ov.layout.upper);
    fs.writeFileSync(path.join(s.ov.base, 'a'), 'a2\n');
    fs.writeFileSync(path.join(s.ov.base, 'b'), 'b2\n');
    const r = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'g2' } });
    const tree = path.join(s.ov.layout.backupsDir, r.backupSet!, 'upper');
    // The interrupted restore had moved `a` back but not yet rewritten the set's index.
    fs.renameSync(path.join(tree, 'a'), path.join(s.ov.layout.upper, 'a'));
    const done = await restoreBackup(s.ov, memoryLog(), r.backupSet!, []);
    expect(done.restored).toEqual(['a', 'b']);
    expect(snapshot(s.ov.layout.upper)).toEqual(original);
    expect(listSets(s.ov.layout)).toEqual([]);
  });

  it('a restore is journaled: stopped after its first entry, the next offline command finishes it', async () => {
    const { s, original, r } = await droppedSet();
    process.env[FAULT_ENV] = '1';
    try {
      await expect(restoreBackup(s.ov, memoryLog(), r.backupSet!, [])).rejects.toThrow(`${FAULT_ENV}=1: stopped after action 1 of 2`);
    } finally {
      delete process.env[FAULT_ENV];
    }
    const journal = JSON.parse(fs.readFileSync(s.ov.layout.journal, 'utf8')) as { origin: string; set: string };
    expect(journal).toMatchObject({ origin: 'restore', set: r.backupSet });
    // The parents of the first entry were made with the base's mode and owner, in one step each.
    expect(fs.statSync(path.join(s.ov.layout.upper, 'd/sub')).mode & 0o7777).toBe(0o750);
    const log = memoryLog();
    await vacuumOverlay(s.ov, log, { dryRun: false });
    expect(log.events.map((e) => e.event)).toContain('reconcile.resume');
    expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
    expect(snapshot(s.ov.layout.upper)).toEqual(original);
    // The command that finished the restore removed the emptied set, as the restore would have.
    expect(listSets(s.ov.layout)).toEqual([]);
    expect((await restoreBackup(s.ov, memoryLog(), r.backupSet!, [])).alreadyRestoredAt).not.toBeNull();
  });

  it('prunes the oldest sets beyond Keep, never a protected one', () => {
    const s = scratchOverlay(root);
    const names = ['20260101T000000000Z-a', '20260102T000000000Z-b', '20260103T000000000Z-c'];
    // Each holds an entry: a set that holds nothing is no backup, and is never counted.
    for (const n of names) {
      fs.mkdirSync(path.join(s.ov.layout.backupsDir, n, 'upper'), { recursive: true });
      fs.writeFileSync(path.join(s.ov.layout.backupsDir, n, 'upper/f'), `${n}\n`);
    }
    expect(pruneSets(s.ov.layout, 1, new Set([names[0]!]))).toEqual([names[1]]);
    expect(listSets(s.ov.layout).map((x) => [x.name, x.index])).toEqual([[names[0], null], [names[2], null]]);
  });

  it('removes the sets that hold nothing and never counts them, whatever their index claims', () => {
    const s = scratchOverlay(root);
    const dir = (n: string) => path.join(s.ov.layout.backupsDir, n);
    const [old, phantom, restored, bare, current] = ['20260101T000000000Z-a', '20260102T000000000Z-b', '20260103T000000000Z-c', '20260104T000000000Z-d', '20260105T000000000Z-e'];
    // The oldest holds an opaque directory the index lists (a directory, and still an entry).
    fs.mkdirSync(path.join(dir(old), 'upper/opq'), { recursive: true });
    const index = (n: string, paths: string[]) =>
      fs.writeFileSync(path.join(dir(n), 'index.json'), JSON.stringify({ version: 1, overlay: 'opt', set: n, origin: 'reconcile', mode: 'changed', from: null, to: 'g', createdAt: 'now', entries: paths.map((p) => ({ path: p, display: p, kind: 'opaque-dir', type: 'dir', rule: 7, reason: 'r' })) }));
    index(old, ['opq']);
    // An index claiming what never moved in; every entry restored (parents left behind); nothing at all.
    fs.mkdirSync(path.join(dir(phantom), 'upper'), { recursive: true });
    index(phantom, ['bin/g']);
    fs.mkdirSync(path.join(dir(restored), 'upper/d/sub'), { recursive: true });
    index(restored, []);
    fs.mkdirSync(dir(bare), { recursive: true });
    fs.mkdirSync(path.join(dir(current), 'upper'), { recursive: true });
    expect(pruneSets(s.ov.layout, 2, new Set([current]))).toEqual([phantom, restored, bare]);
    expect(listSets(s.ov.layout).map((x) => x.name)).toEqual([old, current]);
  });

  it.each([
    ['another set', { set: '20250101T000000000Z-x' }, 'set: "20250101T000000000Z-x": expected "20260101T000000000Z-a", the name of its directory'],
    ['another overlay', { overlay: 'usr-local' }, 'overlay: "usr-local": expected "opt", the overlay it is kept for'],
  ])('refuses an index that names %s (a set copied in from elsewhere)', (_what, over, message) => {
    const s = scratchOverlay(root);
    const name = '20260101T000000000Z-a';
    fs.mkdirSync(path.join(s.ov.layout.backupsDir, name, 'upper'), { recursive: true });
    const file = path.join(s.ov.layout.backupsDir, name, 'index.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, overlay: 'opt', set: name, origin: 'reconcile', mode: 'changed', from: null, to: 'g', createdAt: 'now', entries: [], ...over }));
    expect(() => listSets(s.ov.layout)).toThrow(`${file}: ${message}`);
  });

  it('prunes a set holding a tree deeper than PATH_MAX, and never follows a symlink in it', () => {
    const s = scratchOverlay(root);
    const names = ['20260101T000000000Z-a', '20260102T000000000Z-b'];
    for (const n of names) fs.mkdirSync(path.join(s.ov.layout.backupsDir, n, 'upper'), { recursive: true });
    // The newer one holds an entry too: a set that holds nothing is no backup, and is never counted.
    fs.writeFileSync(path.join(s.ov.layout.backupsDir, names[1]!, 'upper/f'), 'f\n');
    makeDeep(path.join(s.ov.layout.backupsDir, names[0]!, 'upper'), 'dd', 2100);
    fs.mkdirSync(path.join(root, 'outside'));
    fs.writeFileSync(path.join(root, 'outside/host'), 'host\n');
    fs.symlinkSync(path.join(root, 'outside'), path.join(s.ov.layout.backupsDir, names[0]!, 'upper/link'));
    expect(pruneSets(s.ov.layout, 1)).toEqual([names[0]]);
    expect(listSets(s.ov.layout).map((x) => x.name)).toEqual([names[1]]);
    expect(fs.readFileSync(path.join(root, 'outside/host'), 'utf8')).toBe('host\n');
  });
});
