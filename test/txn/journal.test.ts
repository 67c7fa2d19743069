// The journal read back: every action kind and every path field as written, raw bytes kept.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromBytes } from '../../src/model/entry.js';
import { layoutFor, type Layout } from '../../src/paths/layout.js';
import { readJournal, writeJournal, type Journal } from '../../src/txn/journal.js';
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
  set: 'S',
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

  it('refuses a plan without its conflicts, naming the file', () => {
    const { conflicts: _, ...actionsOnly } = journal.plan;
    fs.writeFileSync(layout.journal, JSON.stringify({ ...journal, plan: actionsOnly }));
    expect(() => readJournal(layout)).toThrow(`${layout.journal}: not a version 1 reconcile journal`);
  });
});
