// Rule 11: the rollback steps planned after the ordinary plan of the change back, as one plan.
import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../src/plan/plan.js';
import { planRollback } from '../../src/plan/rollback.js';
import type { RollbackSource, Written } from '../../src/plan/types.js';
import { rel } from '../model/rel.js';
import { base, config, lines, up, view } from './fixtures.js';

const SET = '20260101T000000000Z-gen2';
const source = (entries: string[], wrote: Array<[Written['kind'], string, string]> = []): RollbackSource => ({
  set: SET,
  entries: entries.map((p) => rel(p)),
  wrote: wrote.map(([kind, path, from]) => ({ kind, path: rel(path), from: rel(from) })),
});

/** The plan of a change gen2 (b0) → gen1 (b1) with the rollback of `src`. */
function rollback(b0: ReturnType<typeof view>, b1: ReturnType<typeof view>, upper: ReturnType<typeof up>[], src: RollbackSource, over: Parameters<typeof config>[0] = {}) {
  const plan = planReconcile({ b0, b1, upper, config: config(over) });
  return planRollback({ plan, upper, b0, source: src });
}

describe('planRollback', () => {
  it('restores every entry of the set the upper has no entry for, after the moves, and names the set', () => {
    const b0 = view(base('bin', 'dir'), base('bin/tool', 'file:v2'), base('bin/gone', 'file:v2'));
    const b1 = view(base('bin', 'dir'), base('bin/tool', 'file:v1'), base('bin/gone', 'file:v1'));
    const upper = [up('data', 'dir'), up('data/db', 'file:state')];
    const plan = rollback(b0, b1, upper, source(['bin/gone', 'bin/tool']));
    expect(lines(plan)).toEqual(['restore bin/gone 11', 'restore bin/tool 11']);
    expect(plan.rollbackSet).toBe(SET);
    expect(plan.actions[0]!.reason).toBe(`rollback: restored from backup set ${SET}`);
  });

  it('keeps a newer entry at the path and reports the set entry as not restored', () => {
    const b0 = view(base('etc', 'dir'), base('etc/a.conf', 'file:v2'));
    const b1 = view(base('etc', 'dir'), base('etc/a.conf', 'file:v1'));
    const upper = [up('etc', 'dir'), up('etc/a.conf', 'file:edited again under v2')];
    const plan = rollback(b0, b1, upper, source(['etc/a.conf']), { paths: { config: ['/opt/etc/**'] } });
    expect(lines(plan)).toEqual(['sidecar etc/a.conf.rpmnew<etc/a.conf 3', 'keep etc/a.conf 3', '! etc/a.conf 11']);
    expect(plan.conflicts[0]!.reason).toBe(`rollback: not restored from backup set ${SET}: the upper holds a newer entry at this path`);
  });

  it('treats a copy-up identical to the recorded base as nothing newer: it goes, the host\'s entry comes back', () => {
    const b0 = view(base('bin', 'dir'), base('bin/tool', 'file:v2'));
    const b1 = view(base('bin', 'dir'), base('bin/tool', 'file:v1'));
    const upper = [up('bin', 'dir'), up('bin/tool', 'file:v2')];
    expect(lines(rollback(b0, b1, upper, source(['bin/tool'])))).toEqual(['move bin/tool 3', 'restore bin/tool 11']);
  });

  it('moves the sidecars that reconcile wrote and restores the older one it replaced', () => {
    const b0 = view(base('etc', 'dir'), base('etc/a.conf', 'file:v2'));
    const b1 = view(base('etc', 'dir'), base('etc/a.conf', 'file:v2'));
    const upper = [up('etc', 'dir'), up('etc/a.conf', 'file:mine'), up('etc/a.conf.rpmnew', 'file:v2')];
    const plan = rollback(b0, b1, upper, source(['etc/a.conf.rpmnew'], [['sidecar', 'etc/a.conf.rpmnew', 'etc/a.conf']]), { paths: { config: ['/opt/etc/**'] } });
    expect(lines(plan)).toEqual(['move etc/a.conf.rpmnew 11', 'restore etc/a.conf.rpmnew 11', 'keep etc/a.conf 2']);
  });

  it('gives a saved name back where the original name is free, and not where something stands', () => {
    const b = view(base('etc', 'dir'), base('etc/r.conf', 'file:v1'), base('etc/s.conf', 'file:v1'));
    const upper = [up('etc', 'dir'), up('etc/r.conf.rpmsave', 'file:mine'), up('etc/s.conf.rpmsave', 'file:mine'), up('etc/s.conf', 'file:newer')];
    const src = source([], [['rename', 'etc/r.conf.rpmsave', 'etc/r.conf'], ['rename', 'etc/s.conf.rpmsave', 'etc/s.conf']]);
    expect(lines(rollback(b, b, upper, src))).toEqual(['rename etc/r.conf.rpmsave>etc/r.conf 11', 'keep etc/s.conf 2']);
  });

  it('restores below a directory the plan would remove as empty, and keeps that directory', () => {
    const b0 = view(base('a', 'dir'), base('a/x', 'file:v2'));
    const b1 = view(base('a', 'dir'), base('a/x', 'file:v1'), base('a/y', 'file:v1'));
    const upper = [up('a', 'dir'), up('a/x', 'file:v1')];
    const plain = planReconcile({ b0, b1, upper, config: config() });
    expect(lines(plain)).toEqual(['move a/x 1', 'rmdir a 8']);
    expect(lines(planRollback({ plan: plain, upper, b0, source: source(['a/y']) }))).toEqual(['move a/x 1', 'restore a/y 11']);
  });

  it('restores nothing under a parent that is no longer a directory', () => {
    const b = view(base('a', 'dir'));
    const upper = [up('a', 'file:now a file')];
    const plan = rollback(b, b, upper, source(['a/x']));
    expect(lines(plan)).toEqual(['keep a 2', '! a/x 11']);
    expect(plan.conflicts[0]!.reason).toMatch(/a parent in the upper is not a directory$/);
  });

  it('leaves the plan as it is when the set holds nothing to undo', () => {
    const b = view(base('a', 'file:v1'));
    const plain = planReconcile({ b0: b, b1: b, upper: [], config: config() });
    expect(planRollback({ plan: plain, upper: [], b0: b, source: source([]) })).toBe(plain);
  });
});

describe('planRollback and the sidecars of the reconcile it undoes', () => {
  it('moves the sidecar that reconcile wrote beside a kept config file instead of writing the current base\'s', () => {
    const b0 = view(base('etc', 'dir'), base('etc/a.conf', 'file:v2'));
    const b1 = view(base('etc', 'dir'), base('etc/a.conf', 'file:v1'));
    const upper = [up('etc', 'dir'), up('etc/a.conf', 'file:mine'), up('etc/a.conf.rpmnew', 'file:v2')];
    const cfg = { paths: { config: ['/opt/etc/**'] } };
    expect(lines(planReconcile({ b0, b1, upper, config: config(cfg) }))).toEqual(['move etc/a.conf.rpmnew 3', 'sidecar etc/a.conf.rpmnew<etc/a.conf 3', 'keep etc/a.conf 3']);
    const plan = rollback(b0, b1, upper, source([], [['sidecar', 'etc/a.conf.rpmnew', 'etc/a.conf']]), cfg);
    expect(lines(plan)).toEqual(['move etc/a.conf.rpmnew 11', 'keep etc/a.conf 11']);
    expect(plan.actions.find((a) => a.kind === 'keep')).not.toHaveProperty('sidecar');
    expect(plan.rollbackSet).toBe(SET);
  });
});
