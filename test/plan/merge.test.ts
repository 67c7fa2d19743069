// The planner's side of three-way merges: a merge outcome (observe/merges.ts) under rules 3 and 6, what a
// conflict falls back to, and the entries that follow a merged dpkg status.
import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../src/plan/plan.js';
import type { MergeView } from '../../src/plan/types.js';
import { rel } from '../model/rel.js';
import { base as b, config, lines, up as u, view } from './fixtures.js';

const H = 'a'.repeat(64);
const M = 'b'.repeat(64);
const cfg = config({ paths: { config: ['/opt/etc/**'], configMerge: 'three-way' } });
const merged: MergeView = { driver: 'text', kind: 'merged', digest: M, host: H };
const conflict: MergeView = { driver: 'text', kind: 'conflict', conflicts: ['both changed line 2 of the old base'] };

function plan(merges: Record<string, MergeView>, paths = ['etc/app.conf'], over: { b0?: boolean; follow?: Record<string, string> } = {}) {
  return planReconcile({
    b0: over.b0 === false ? view() : view(...paths.map((p) => b(p, 'file:v1'))),
    b1: view(...paths.map((p) => b(p, 'file:v2'))),
    upper: paths.map((p) => u(p, 'file:host')),
    config: cfg,
    merges: new Map(Object.entries(merges).map(([p, m]) => [rel(p), m])),
    ...(over.follow ? { follow: new Map(Object.entries(over.follow).map(([p, w]) => [rel(p), w])) } : {}),
  });
}

describe('a merge outcome in the plan', () => {
  it('rule 3, clean: one merge action with the driver and both digests', () => {
    const p = plan({ 'etc/app.conf': merged });
    expect(lines(p)).toEqual(['merge etc/app.conf text 3']);
    expect(p.actions[0]).toMatchObject({ kind: 'merge', digest: M, host: H, entry: { kind: 'shadow', type: 'file' } });
  });

  it('rule 3, a conflict: the sidecar of ConfigPolicy=noreplace, and a warning naming the hunk', () => {
    const p = plan({ 'etc/app.conf': conflict });
    expect(lines(p)).toEqual(['sidecar etc/app.conf.rpmnew<etc/app.conf 3', 'keep etc/app.conf 3', '! etc/app.conf 3']);
    expect(p.conflicts[0]!.reason).toMatch(/^not merged \(text\): both changed line 2 of the old base; /);
  });

  it('rule 6 (the new base now ships the host\'s file): a clean merge too', () => {
    expect(lines(plan({ 'etc/app.conf': merged }, ['etc/app.conf'], { b0: false }))).toEqual(['merge etc/app.conf text 6']);
  });

  it('a merge result equal to the host\'s copy keeps the file', () => {
    expect(lines(plan({ 'etc/app.conf': { ...merged, digest: H } }))).toEqual(['keep etc/app.conf 3']);
  });

  it('no outcome (ConfigMerge=none, or no candidate): the table alone', () => {
    expect(lines(plan({}))).toEqual(['sidecar etc/app.conf.rpmnew<etc/app.conf 3', 'keep etc/app.conf 3']);
  });

  it('notes of a merge (the new base won a package) are warnings beside the merge', () => {
    const p = plan({ 'etc/app.conf': { ...merged, notes: ['pkg:all: changed by the host and by the new base'] } });
    expect(p.conflicts.map((c) => c.reason)).toEqual(["merged (text), the host's change not kept: pkg:all: changed by the host and by the new base"]);
  });

  it('entries that follow a merge go to backups under rule 3, whatever the table says of them', () => {
    const p = plan({}, ['etc/app.conf', 'etc/other'], { follow: { 'etc/other': 'follows the merged dpkg status' } });
    expect(lines(p)).toContain('move etc/other 3');
    expect(p.actions.find((a) => a.path === 'etc/other')!.reason).toBe('follows the merged dpkg status');
  });
});
