// The journal read back: every action kind and every path field as written, raw bytes kept; every field
// checked, a damaged one refused naming the file and the field; the progress file read back the same way.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromBytes } from '../../src/model/entry.js';
import { layoutFor, type Layout } from '../../src/paths/layout.js';
import { progressFile, readJournal, writeJournal, type Journal } from '../../src/txn/journal.js';
import { ProgressWriter, readProgress } from '../../src/txn/progress.js';
import { rel } from '../model/rel.js';
import { INVALID_UTF8, removeTree, scratch } from '../tree/fixtures.js';

const odd = fromBytes(INVALID_UTF8);
const journal: Journal = {
  version: 1,
  overlay: 'opt',
  origin: 'reconcile',
  mode: 'changed',
  from: 'g1',
  to: 'g2',
  manifest: null,
  set: '20260101T000000000Z-g2',
  startedAt: '2026-01-01T00:00:00.000Z',
  plan: {
    actions: [
      { kind: 'move-to-backups', path: odd, rule: 3, reason: 'r3', entry: { kind: 'shadow', type: 'file' } },
      { kind: 'rename', path: rel('etc/c'), to: rel('etc/c.rpmsave'), rule: 4, reason: 'r4' },
      { kind: 'write-sidecar', path: rel(odd, 'x.rpmnew'), from: rel(odd, 'x'), type: 'file', digest: '0'.repeat(64), mode: 0o644, uid: 0, gid: 0, rule: 3, reason: 'r3' },
      { kind: 'set-attrs', path: rel('d'), mode: 0o755, uid: 1, gid: 2, rule: 9, reason: 'r9' },
      { kind: 'remove-empty-dir', path: rel('d'), rule: 8, reason: 'r8' },
      { kind: 'keep', path: rel('k'), sidecar: rel('k.rpmnew'), rule: 3, reason: 'r3' },
      { kind: 'keep', path: rel('k2'), rule: 2, reason: 'r2' },
    ],
    conflicts: [{ path: odd, rule: 5, reason: 'r5' }],
  },
};

let root: string;
let layout: Layout;
beforeEach(() => {
  root = scratch('so-journal-');
  layout = layoutFor(root, 'opt', '/opt');
  fs.mkdirSync(layout.stateDir, { recursive: true });
});
afterEach(async () => {
  await removeTree(root);
});

describe('readJournal', () => {
  it('gives back the journal written, every path byte for byte', () => {
    writeJournal(layout, journal);
    const back = readJournal(layout);
    expect(back).toEqual(journal);
    expect(back!.plan.actions.map((a) => Object.keys(a))).toEqual(journal.plan.actions.map((a) => Object.keys(a)));
  });

  it('gives back a rollback: its restores and the set they come from', () => {
    const rollback: Journal = {
      ...journal,
      plan: { ...journal.plan, actions: [...journal.plan.actions, { kind: 'restore-from-backups', path: rel('bin/tool'), rule: 11, reason: 'r11' }], rollbackSet: '20251231T000000000Z-g1' },
    };
    writeJournal(layout, rollback);
    expect(readJournal(layout)).toEqual(rollback);
  });

  it('refuses a plan without its conflicts, naming the file', () => {
    const { conflicts: _, ...actionsOnly } = journal.plan;
    fs.writeFileSync(layout.journal, JSON.stringify({ ...journal, plan: actionsOnly }));
    expect(() => readJournal(layout)).toThrow(`${layout.journal}: not a version 1 reconcile journal`);
  });
});

describe('every field of the journal read back is checked, naming the file and the field', () => {
  /** The journal's JSON, to damage (JSON.parse's own type: any field can be reached). */
  type Doc = ReturnType<typeof JSON.parse>;
  /** The journal with one change made to its JSON. */
  const damaged = (change: (j: Doc) => void): string => {
    const j = JSON.parse(JSON.stringify(journal));
    change(j);
    return JSON.stringify(j);
  };
  const cases: Array<[string, (j: Doc) => void, string]> = [
    ['a set name with ..', (j) => (j.set = '../../../escaped'), 'set: expected a backup set name (STAMP-GENERATION), got "../../../escaped"'],
    ['a set name that is a path', (j) => (j.set = '20260101T000000000Z-a/b'), 'set: expected a backup set name (STAMP-GENERATION), got "20260101T000000000Z-a/b"'],
    ['another overlay', (j) => (j.overlay = 'srv'), 'overlay: expected "opt", the overlay whose state dir holds it, got "srv"'],
    ['an unknown origin', (j) => (j.origin = 'magic'), 'origin: expected one of reconcile, vacuum, restore or reset, got "magic"'],
    ['an unknown mode', (j) => (j.mode = 'some'), 'mode: expected one of changed, all, none or null, got "some"'],
    ['a manifest path', (j) => (j.manifest = '../state.json'), 'manifest: expected a file name or null, got "../state.json"'],
    ['no target generation', (j) => delete j.to, 'to: expected a string, got nothing'],
    ['an action that is not an object', (j) => (j.plan.actions[2] = 7), 'plan.actions[2]: expected an object, got 7'],
    ['an action without a path', (j) => (j.plan.actions[3].path = 42), 'plan.actions[3].path: expected a relative path of raw bytes'],
    ['a path with ..', (j) => (j.plan.actions[0].path = 'a/../../b'), 'plan.actions[0].path: expected a relative path of raw bytes'],
    ['an absolute path', (j) => (j.plan.actions[0].path = '/etc/passwd'), 'plan.actions[0].path: expected a relative path of raw bytes'],
    ['a path that is not raw bytes', (j) => (j.plan.actions[0].path = 'caf\u00e9\u0100'), 'plan.actions[0].path: expected a relative path of raw bytes'],
    ['an unknown kind', (j) => (j.plan.actions[1].kind = 'explode'), 'plan.actions[1].kind: expected one of move-to-backups, rename, write-sidecar, merge, set-attrs, remove-empty-dir or keep, got "explode"'],
    ['a restore action in a reconcile', (j) => (j.plan.actions[1].kind = 'restore-from-backups'), 'plan.actions[1].kind: expected one of move-to-backups'],
    ['a rollback set that is a path', (j) => (j.plan.rollbackSet = '../x'), 'plan.rollbackSet: expected a backup set name (STAMP-GENERATION), got "../x"'],
    ['a rule out of the table', (j) => (j.plan.actions[0].rule = 12), 'plan.actions[0].rule: expected a whole number from 1 to 11, got 12'],
    ['no reason', (j) => delete j.plan.actions[0].reason, 'plan.actions[0].reason: expected a string, got nothing'],
    ['an unknown entry kind', (j) => (j.plan.actions[0].entry.kind = 'ghost'), 'plan.actions[0].entry.kind: expected one of state, shadow, merged-dir, opaque-dir, whiteout or foreign, got "ghost"'],
    ['a saved name in another directory', (j) => (j.plan.actions[1].to = 'elsewhere/c.rpmsave'), 'plan.actions[1].to: expected another name in the directory of path'],
    ['a sidecar from another directory', (j) => (j.plan.actions[2].from = 'x'), 'plan.actions[2].from: expected another name in the directory of path'],
    ['a digest that is not a sha256', (j) => (j.plan.actions[2].digest = 'zz'), 'plan.actions[2].digest: expected a sha256 in hex, got "zz"'],
    ['a mode past the permission bits', (j) => (j.plan.actions[3].mode = 0o170755), 'plan.actions[3].mode: expected permission bits (a whole number from 0 to 0o7777), got 61933'],
    ['a negative owner', (j) => (j.plan.actions[3].uid = -1), 'plan.actions[3].uid: expected a whole number from 0 to 4294967295, got -1'],
    ['a kept sidecar elsewhere', (j) => (j.plan.actions[5].sidecar = 'k/../x'), 'plan.actions[5].sidecar: expected a relative path of raw bytes'],
    ['a conflict without a path', (j) => delete j.plan.conflicts[0].path, 'plan.conflicts[0].path: expected a relative path of raw bytes'],
  ];
  it.each(cases)('%s', (_name, change, message) => {
    fs.writeFileSync(layout.journal, damaged(change));
    expect(() => readJournal(layout)).toThrow(`${layout.journal}: ${message}`);
  });

  it('a restore journal holds only restore actions', () => {
    const restore = { ...journal, origin: 'restore', plan: { actions: [{ kind: 'move-to-backups', path: 'a', rule: 3, reason: 'r', entry: { kind: 'shadow', type: 'file' } }], conflicts: [] } };
    fs.writeFileSync(layout.journal, JSON.stringify(restore));
    expect(() => readJournal(layout)).toThrow(`${layout.journal}: plan.actions[0].kind: expected restore-from-backups, got "move-to-backups"`);
  });

  it('a journal that would not read back is never written', () => {
    expect(() => writeJournal(layout, { ...journal, set: 'S' })).toThrow(`refusing to write a journal that does not read back: ${layout.journal}: set: expected a backup set name`);
    expect(fs.existsSync(layout.journal)).toBe(false);
  });
});

describe('the progress file', () => {
  const total = journal.plan.actions.length;
  const progress = (text: string) => {
    fs.writeFileSync(progressFile(layout), text, 'latin1');
    return readProgress(layout, total);
  };

  it('counts the last complete record; a torn last line counts for nothing', () => {
    expect(readProgress(layout, total)).toEqual({ done: 0, skipped: new Map() });
    expect(progress('2\n5\n')).toEqual({ done: 5, skipped: new Map() });
    expect(progress('2\n5\n6')).toMatchObject({ done: 5 });
    expect(progress('2\n5\n\x00\xff')).toMatchObject({ done: 5 });
  });

  it('keeps the skips of the actions done, with their reasons byte for byte', () => {
    const w = new ProgressWriter(progressFile(layout));
    w.skip(1, 'cannot move /opt/etc/c aside: caf\u00e9 exists');
    w.done(3);
    w.skip(4, 'a skip whose batch did not finish');
    w.close();
    expect(readProgress(layout, total)).toEqual({ done: 3, skipped: new Map([[1, 'cannot move /opt/etc/c aside: caf\u00e9 exists']]) });
  });

  it.each([
    ['99\n', '1: 99 actions done: the journal has 7'],
    ['2\nskip 9 "x"\n', '2: skip of action 9: the journal has 7'],
    ['2\nthree\n4\n', '2: expected an action count or a skip record, got "three"'],
    ['\n', '1: expected an action count or a skip record, got ""'],
    ['skip 1 "unterminated\n', '1: expected an action count or a skip record, got "skip 1 \\"unterminated"'],
  ])('refuses %j naming the file and the line', (text, message) => {
    expect(() => progress(text)).toThrow(`${progressFile(layout)}:${message}`);
  });
});
