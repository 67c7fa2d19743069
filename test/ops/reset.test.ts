// `reset` on real trees: what moves (the top of each selected subtree, whiteouts and opaque dirs with it),
// what stays (the copy-ups above it), the set it makes, and `restore` putting it all back byte-identical.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIndex } from '../../src/backups/index-file.js';
import { memoryLog } from '../../src/log/logger.js';
import { resetOverlay, selectorOf } from '../../src/ops/reset.js';
import { restoreBackup } from '../../src/ops/restore.js';
import { planReset } from '../../src/plan/reset.js';
import { listSets, setIndexFile, setTree } from '../../src/backups/sets.js';
import type { UpperEntry } from '../../src/model/entry.js';
import type { Action } from '../../src/plan/types.js';
import { rel } from '../model/rel.js';
import { sweepTemplate } from '../hardening/sweep-case.js';
import { scratchOverlay, snapshotFull } from './scratch.js';
import { INVALID_UTF8, bpath } from '../tree/fixtures.js';

const entry = (p: string, kind: UpperEntry['kind'] = 'state', type: UpperEntry['type'] = 'file'): UpperEntry =>
  ({ path: rel(p), kind, type, mode: 0o644, uid: 0, gid: 0, size: 0, digest: '' }) as UpperEntry;

/** `PATH KIND` of a move. */
const movedKind = (a: Action): string => `${a.path} ${a.kind === 'move-to-backups' ? a.entry.kind : a.kind}`;

describe('planReset', () => {
  const upper = [entry('a', 'merged-dir', 'dir'), entry('a/b', 'merged-dir', 'dir'), entry('a/b/c', 'shadow'), entry('a/b/d', 'whiteout', 'chr'), entry('e', 'opaque-dir', 'dir'), entry('e/f')];
  const moves = (sel: string[]) => planReset(upper, sel.map((a) => selectorOf('/opt', a))).plan.actions.map(movedKind);

  it('with no PATH moves every top-level entry, each with its subtree, under no rule', () => {
    const r = planReset(upper, []);
    expect(r.plan.actions.map((a) => [a.path, a.rule, a.reason])).toEqual([['a', null, 'reset of the whole upper'], ['e', null, 'reset of the whole upper']]);
  });
  it('moves the top of each selected subtree and leaves the directories above it', () => {
    expect(moves(['/opt/a/b'])).toEqual(['a/b merged-dir']);
    expect(moves(['a/b/c', 'a/b/d'])).toEqual(['a/b/c shadow', 'a/b/d whiteout']);
    expect(moves(['a/b', 'a/b/c'])).toEqual(['a/b merged-dir']);
  });
  it('matches globs against the upper paths, below the mountpoint or relative', () => {
    expect(moves(['a/b/*'])).toEqual(['a/b/c shadow', 'a/b/d whiteout']);
    expect(moves(['/opt/**/f'])).toEqual(['e/f state']);
    expect(moves(['{a,e}'])).toEqual(['a merged-dir', 'e opaque-dir']);
  });
  it('names every argument that selects nothing', () => {
    expect(planReset(upper, ['a/x', 'z*', 'e'].map((a) => selectorOf('/opt', a))).unmatched).toEqual(['a/x', 'z*']);
  });
  it('refuses a path outside the mountpoint or with ..', () => {
    expect(() => selectorOf('/opt', '/usr/x')).toThrow('/usr/x: not under /opt');
    expect(() => selectorOf('/opt', '/usr/*')).toThrow('/usr/*: not under /opt');
    expect(() => selectorOf('/opt', 'a/../b')).toThrow('a/../b: expected a path below /opt');
  });
});

/**
 * A snapshotFull without the mtime of the directories entries left and came back to (the upper itself, the
 * parents of the moved paths): moving an entry out and back is a change of its directory, nothing more.
 */
function butParentTimes(snap: Map<string, string>, moved: readonly string[]): Map<string, string> {
  const parents = new Set(moved.map((p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '')));
  return new Map([...snap].map(([p, v]) => [p, parents.has(p) ? v.replace(/ mtime=\d+/, '') : v]));
}

describe('reset', () => {
  const t = sweepTemplate('so-reset-');

  it('moves the whole upper to one set; restore puts every byte, mode, owner, xattr and link back', async () => {
    const root = await t.copy();
    const { ov } = scratchOverlay(root);
    fs.writeFileSync(bpath(ov.layout.upper, INVALID_UTF8), 'odd name\n');
    const before = snapshotFull(ov.layout.upper);
    const r = await resetOverlay(ov, memoryLog(), []);
    expect(r.set).not.toBeNull();
    expect(r.plan.actions.map((a) => a.path).sort()).toEqual(fs.readdirSync(setTree(ov.layout, r.set!), { encoding: 'latin1' }).sort());
    expect(fs.readdirSync(ov.layout.upper)).toEqual([]);
    const index = readIndex(setIndexFile(ov.layout, r.set!));
    expect(index.origin).toBe('reset');
    expect(index.entries.every((e) => e.rule === null)).toBe(true);
    expect(index.entries.find((e) => e.path === 'opq')?.kind).toBe('opaque-dir');
    await restoreBackup(ov, memoryLog(), r.set!, []);
    const moved = r.plan.actions.map((a) => a.path);
    expect(butParentTimes(snapshotFull(ov.layout.upper), moved)).toEqual(butParentTimes(before, moved));
  });

  it('resets given paths and globs only, keeping the copy-ups above them', async () => {
    const root = await t.copy();
    const { ov } = scratchOverlay(root);
    const before = snapshotFull(ov.layout.upper);
    const r = await resetOverlay(ov, memoryLog(), ['/opt/bin/wh*', 'turned/sub', 'opq']);
    expect(r.plan.actions.map(movedKind)).toEqual(['bin/wh whiteout', 'bin/whx whiteout', 'opq opaque-dir', 'turned/sub state']);
    for (const gone of ['bin/wh', 'bin/whx', 'opq', 'turned/sub']) expect(fs.existsSync(path.join(ov.layout.upper, gone)), gone).toBe(false);
    for (const stays of ['bin/edited', 'turned/a', 'data/db']) expect(fs.existsSync(path.join(ov.layout.upper, stays)), stays).toBe(true);
    await restoreBackup(ov, memoryLog(), r.set!, []);
    const moved = r.plan.actions.map((a) => a.path);
    expect(butParentTimes(snapshotFull(ov.layout.upper), moved)).toEqual(butParentTimes(before, moved));
  });

  it('a dry run lists the moves and changes nothing', async () => {
    const root = await t.copy();
    const { ov } = scratchOverlay(root);
    const before = snapshotFull(ov.layout.upper);
    const r = await resetOverlay(ov, memoryLog(), ['data'], { dryRun: true });
    expect([r.set, r.dryRun, r.plan.actions.map((a) => a.path)]).toEqual([null, true, ['data']]);
    expect(snapshotFull(ov.layout.upper)).toEqual(before);
    expect(listSets(ov.layout)).toEqual([]);
  });

  it('a PATH that matches nothing is a usage error naming it, and nothing moves', async () => {
    const root = await t.copy();
    const { ov } = scratchOverlay(root);
    const before = snapshotFull(ov.layout.upper);
    await expect(resetOverlay(ov, memoryLog(), ['data', '/opt/nosuch', 'x*'])).rejects.toMatchObject({
      code: 'usage',
      message: `reset opt: "/opt/nosuch", "x*" match nothing in the upper ${ov.layout.upper} (paths under /opt, or relative to it); nothing was moved`,
    });
    expect(snapshotFull(ov.layout.upper)).toEqual(before);
    expect(listSets(ov.layout)).toEqual([]);
  });

  it('its set counts for Backups.Keep= like any other', async () => {
    const root = await t.copy();
    const { ov } = scratchOverlay(root, { backups: { keep: 1 } });
    const first = await resetOverlay(ov, memoryLog(), ['data']);
    const second = await resetOverlay(ov, memoryLog(), ['bin']);
    expect(second.pruned).toEqual([first.set]);
    expect(listSets(ov.layout).map((s) => s.name)).toEqual([second.set]);
  });

  it('leaves the recorded generation as it was', async () => {
    const root = await t.copy();
    const { ov } = scratchOverlay(root);
    const state = fs.readFileSync(ov.layout.stateFile, 'utf8');
    await resetOverlay(ov, memoryLog(), []);
    expect(fs.readFileSync(ov.layout.stateFile, 'utf8')).toBe(state);
  });
});
