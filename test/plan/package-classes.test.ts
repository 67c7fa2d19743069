// Classes from the package databases of both generations (ConfigFrom=), as the planner applies them.
import { describe, expect, it } from 'vitest';
import type { ConfigFrom } from '../../src/config/schema.js';
import type { RelPath } from '../../src/model/entry.js';
import type { GenerationClasses, PackageClass } from '../../src/model/package-class.js';
import { pathClassifier } from '../../src/plan/classes.js';
import { planReconcile } from '../../src/plan/plan.js';
import { rel } from '../model/rel.js';
import { base as b, config, lines, up as u, view } from './fixtures.js';

const A = 'file:a';
const B = 'file:b';
const X = 'file:x';

const dpkg = (over: Partial<PackageClass> = {}): PackageClass => ({ db: 'dpkg', pkg: 'app', config: true, noreplace: false, missingok: false, ghost: false, obsolete: false, ...over });
const rpm = (over: Partial<PackageClass> = {}): PackageClass => ({ ...dpkg(over), db: 'rpm', ...over });
const classes = (b0: Record<string, PackageClass>, b1: Record<string, PackageClass>): GenerationClasses => ({
  b0: new Map(Object.entries(b0).map(([p, c]): [RelPath, PackageClass] => [rel(p), c])),
  b1: new Map(Object.entries(b1).map(([p, c]): [RelPath, PackageClass] => [rel(p), c])),
});
const cfg = (configFrom: ConfigFrom, suffixStyle: 'rpm' | 'dpkg' = 'rpm', more: Partial<ReturnType<typeof config>['paths']> = {}) => config({ paths: { configFrom, suffixStyle, ...more } });

describe('package classes of both generations', () => {
  it('a conffile of B0 only is config (dpkg keeps a modified conffile the new version dropped)', () => {
    const plan = planReconcile({ b0: view(b('p', A)), b1: view(), upper: [u('p', X)], config: cfg('dpkg', 'dpkg'), classes: classes({ p: dpkg() }, {}) });
    expect(lines(plan)).toEqual(['keep p 5']);
    expect(planReconcile({ b0: view(b('p', A)), b1: view(), upper: [u('p', X)], config: cfg('dpkg', 'dpkg') }).actions[0]!.kind).toBe('move-to-backups');
  });

  it('a conffile of B1 only is config (row 6 keeps the host file with a sidecar)', () => {
    const plan = planReconcile({ b0: view(), b1: view(b('p', B)), upper: [u('p', X)], config: cfg('dpkg', 'dpkg'), classes: classes({}, { p: dpkg() }) });
    expect(lines(plan)).toEqual(['sidecar p.dpkg-dist<p 6', 'keep p 6']);
  });

  it('rpm: plain %config replaces, %config(noreplace) keeps, by the flags of the new package', () => {
    const run = (c: PackageClass) => lines(planReconcile({ b0: view(b('p', A)), b1: view(b('p', B)), upper: [u('p', X)], config: cfg('rpm'), classes: classes({ p: rpm({ noreplace: true }) }, { p: c }) }));
    expect(run(rpm())).toEqual(['rename p>p.rpmsave 3']);
    expect(run(rpm({ noreplace: true }))).toEqual(['sidecar p.rpmnew<p 3', 'keep p 3']);
  });

  it('rpm %config(missingok): a deleted file stays deleted, even when the base changed it', () => {
    const plan = planReconcile({ b0: view(b('p', A)), b1: view(b('p', B)), upper: [u('p', 'whiteout')], config: cfg('rpm'), classes: classes({}, { p: rpm({ missingok: true }) }) });
    expect(lines(plan)).toEqual(['keep p 4']);
    expect(plan.actions[0]!.reason).toBe('deleted config file (missingok) changed in the base: stays deleted');
  });

  it('rpm %ghost is declared state: never touched', () => {
    const plan = planReconcile({ b0: view(b('p', A)), b1: view(b('p', B)), upper: [u('p', X)], config: cfg('rpm'), classes: classes({}, { p: rpm({ config: false, ghost: true }) }) });
    expect(lines(plan)).toEqual(['keep p 3']);
    expect(plan.actions[0]!.reason).toBe('rpm %ghost of app: declared state, left untouched (rule 3 would apply: the base changed this path)');
  });

  it('ConfigFrom= picks the database; none ignores them; Keep= and ConfigReplace= globs win', () => {
    const both = classes({}, { d: dpkg(), r: rpm({ noreplace: true }) });
    const paths = (from: ConfigFrom, more = {}) => cfg(from, 'rpm', more).paths;
    const of = (from: ConfigFrom, p: string, more = {}) => pathClassifier('/opt', paths(from, more), both)(rel(p));
    expect([of('dpkg', 'd').cls, of('dpkg', 'r').cls]).toEqual(['config', 'default']);
    expect([of('rpm', 'd').cls, of('rpm', 'r').cls]).toEqual(['default', 'config']);
    expect([of('auto', 'd').from, of('auto', 'r').from]).toEqual(['dpkg conffile of app', 'rpm %config(noreplace) of app']);
    expect([of('none', 'd').cls, of('none', 'r').cls]).toEqual(['default', 'default']);
    expect(of('auto', 'r', { configReplace: ['/opt/r'] })).toEqual({ cls: 'config', policy: 'replace', from: 'ConfigReplace=/opt/r' });
    expect(of('auto', 'd', { keep: ['/opt/d'] }).keep).toBe('Keep=/opt/d');
    expect(of('auto', 'x', { config: ['/opt/*'] })).toEqual({ cls: 'config', policy: 'noreplace', from: 'Config=/opt/*' });
  });
});
