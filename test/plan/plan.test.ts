import { describe, expect, it } from 'vitest';
import { UNREAD, type BaseEntry, type UpperEntry } from '../../src/model/entry.js';
import { topPaths } from '../../src/observe/upper.js';
import { changeUnder } from '../../src/plan/change.js';
import { planReconcile } from '../../src/plan/plan.js';
import type { PlanConfig } from '../../src/plan/types.js';
import { base as b, config, lines, up as u, view } from './fixtures.js';
import { disagreements } from './verdict.js';

// The variants every row runs in: the default class, and the config class in both policies and both suffix styles.
type Variant = 'default' | 'rpm-noreplace' | 'rpm-replace' | 'dpkg-noreplace' | 'dpkg-replace';
const VARIANTS: Variant[] = ['default', 'rpm-noreplace', 'rpm-replace', 'dpkg-noreplace', 'dpkg-replace'];

type Expect = Partial<Record<Variant | 'rpm' | 'dpkg' | 'noreplace' | 'replace' | 'config' | 'any', string[]>>;
function expected(e: Expect, v: Variant): string[] {
  if (v === 'default') return e.default ?? e.any!;
  const [style, policy] = v.split('-') as ['rpm' | 'dpkg', 'noreplace' | 'replace'];
  return e[v] ?? e[style] ?? e[policy] ?? e.config ?? e.any!;
}
function variantConfig(v: Variant, over: Partial<Omit<PlanConfig, 'paths'>> = {}): PlanConfig {
  if (v === 'default') return config(over);
  const [style, policy] = v.split('-') as ['rpm' | 'dpkg', 'noreplace' | 'replace'];
  return config({ ...over, paths: { config: ['/opt/**'], configPolicy: policy, suffixStyle: style } });
}

interface Row {
  rule: string;
  b0: BaseEntry[] | null;
  b1: BaseEntry[];
  upper: UpperEntry[];
  expect: Expect;
}

const A = 'file:a';
const B = 'file:b';
const X = 'file:x';
const ROWS: Row[] = [
  { rule: '1: U identical to B1', b0: [b('p', A)], b1: [b('p', B)], upper: [u('p', B)], expect: { any: ['move p 1'] } },
  { rule: '1: identical copy-up, base unchanged', b0: [b('p', A)], b1: [b('p', A)], upper: [u('p', A)], expect: { any: ['move p 1'] } },
  { rule: '1: not identical when the mode differs', b0: [b('p', A)], b1: [b('p', A)], upper: [u('p', A, { mode: 0o600 })], expect: { any: ['keep p 2'] } },
  { rule: '1: not identical when the owner differs', b0: [b('p', A)], b1: [b('p', A)], upper: [u('p', A, { uid: 1000 })], expect: { any: ['keep p 2'] } },
  { rule: '1: not identical when the host set an xattr (ACL, capability, user.*)', b0: [b('p', A)], b1: [b('p', A)], upper: [u('p', A, { xattrs: 'acl' })], expect: { any: ['keep p 2'] } },
  { rule: '1: not identical when the host removed the base\'s xattr', b0: [b('p', A)], b1: [b('p', A, { xattrs: 'cap' })], upper: [u('p', A)], expect: { any: ['keep p 2'] } },
  { rule: '1: identical with the same xattrs', b0: [b('p', A)], b1: [b('p', B, { xattrs: 'cap' })], upper: [u('p', B, { xattrs: 'cap' })], expect: { any: ['move p 1'] } },
  { rule: '1: not identical when the xattrs were not read', b0: [b('p', A)], b1: [b('p', A, { xattrs: UNREAD })], upper: [u('p', A, { xattrs: UNREAD })], expect: { any: ['keep p 2'] } },
  { rule: '2: edit, base unchanged', b0: [b('p', A)], b1: [b('p', A, { mode: 0o600 })], upper: [u('p', X)], expect: { any: ['keep p 2'] } },
  { rule: '2: whiteout, base unchanged', b0: [b('p', A)], b1: [b('p', A)], upper: [u('p', 'whiteout')], expect: { any: ['keep p 2'] } },
  { rule: '2: type change, base unchanged', b0: [b('p', A)], b1: [b('p', A)], upper: [u('p', 'link:elsewhere')], expect: { any: ['keep p 2'] } },
  { rule: '2: pure state', b0: [], b1: [], upper: [u('p', X)], expect: { any: [] } },
  {
    rule: '3: edited file, base changed',
    b0: [b('p', A)], b1: [b('p', B)], upper: [u('p', X)],
    expect: {
      default: ['move p 3'],
      'rpm-noreplace': ['sidecar p.rpmnew<p 3', 'keep p 3'],
      'dpkg-noreplace': ['sidecar p.dpkg-dist<p 3', 'keep p 3'],
      'rpm-replace': ['rename p>p.rpmsave 3'],
      'dpkg-replace': ['rename p>p.dpkg-old 3'],
    },
  },
  { rule: '3: unmodified content (chmod only), base changed', b0: [b('p', A)], b1: [b('p', B)], upper: [u('p', A, { mode: 0o600 })], expect: { any: ['move p 3'] } },
  {
    rule: '3: edited symlink, base changed',
    b0: [b('p', 'link:t1')], b1: [b('p', 'link:t2')], upper: [u('p', 'link:mine')],
    expect: { default: ['move p 3'], 'rpm-noreplace': ['sidecar p.rpmnew<p 3', 'keep p 3'], 'dpkg-noreplace': ['sidecar p.dpkg-dist<p 3', 'keep p 3'], 'rpm-replace': ['rename p>p.rpmsave 3'], 'dpkg-replace': ['rename p>p.dpkg-old 3'] },
  },
  {
    rule: '3: no sidecar for a base device',
    b0: [b('p', 'chr:1:3')], b1: [b('p', 'chr:1:5')], upper: [u('p', X)],
    expect: { default: ['move p 3'], noreplace: ['keep p 3', '! p 3'], 'rpm-replace': ['rename p>p.rpmsave 3'], 'dpkg-replace': ['rename p>p.dpkg-old 3'] },
  },
  {
    rule: '4: whiteout, base changed',
    b0: [b('p', A)], b1: [b('p', B)], upper: [u('p', 'whiteout')],
    expect: { default: ['move p 4'], rpm: ['move p 4'], 'dpkg-noreplace': ['sidecar p.dpkg-dist<p 4', 'keep p 4'], 'dpkg-replace': ['move p 4'] },
  },
  {
    rule: '5: edited file the base removed',
    b0: [b('p', A)], b1: [], upper: [u('p', X)],
    expect: { default: ['move p 5'], rpm: ['rename p>p.rpmsave 5'], dpkg: ['keep p 5'] },
  },
  { rule: '5: unmodified copy the base removed', b0: [b('p', A)], b1: [], upper: [u('p', A, { mode: 0o600 })], expect: { any: ['move p 5'] } },
  { rule: '5: whiteout of a removed path', b0: [b('p', A)], b1: [], upper: [u('p', 'whiteout')], expect: { any: ['move p 5'] } },
  { rule: '5: not a copy (other type)', b0: [b('p', A)], b1: [], upper: [u('p', 'link:x')], expect: { any: ['keep p 5'] } },
  {
    rule: '5: directory the base removed',
    b0: [b('d', 'dir'), b('d/x', A)], b1: [], upper: [u('d', 'dir'), u('d/x', X)],
    expect: { default: ['move d/x 5', 'rmdir d 5'], rpm: ['rename d/x>d/x.rpmsave 5'], dpkg: ['keep d/x 5'] },
  },
  {
    rule: '6: the base now ships a state path',
    b0: [], b1: [b('p', B)], upper: [u('p', X)],
    expect: {
      default: ['move p 6', '! p 6'],
      'rpm-noreplace': ['sidecar p.rpmnew<p 6', 'keep p 6'],
      'dpkg-noreplace': ['sidecar p.dpkg-dist<p 6', 'keep p 6'],
      // As rpm installs a plain %config over a file it does not own (.rpmorig) and dpkg --force-confnew does (.dpkg-old).
      'rpm-replace': ['rename p>p.rpmorig 6'],
      'dpkg-replace': ['rename p>p.dpkg-old 6'],
    },
  },
  { rule: '6: whiteout over a path new in the base', b0: [], b1: [b('p', B)], upper: [u('p', 'whiteout')], expect: { any: ['move p 6', '! p 6'] } },
  {
    rule: '6: the base now ships a state directory (base mode wins in the default class)',
    b0: [], b1: [b('d', 'dir', { mode: 0o755 })], upper: [u('d', 'dir', { mode: 0o700 }), u('d/s', X)],
    expect: { default: ['attrs d 755 6'], config: [] },
  },
  { rule: '7: opaque dir, nothing below changed', b0: [b('d', 'dir'), b('d/x', A)], b1: [b('d', 'dir', { mode: 0o700 }), b('d/x', A, { mode: 0o600 })], upper: [u('d', 'opaque'), u('d/s', X)], expect: { any: ['keep d 7'] } },
  { rule: '7: opaque dir, a file below changed', b0: [b('d', 'dir'), b('d/x', A)], b1: [b('d', 'dir'), b('d/x', B)], upper: [u('d', 'opaque'), u('d/s', X)], expect: { any: ['move d 7'] } },
  { rule: '7: opaque dir, a file added below', b0: [b('d', 'dir')], b1: [b('d', 'dir'), b('d/y', B)], upper: [u('d', 'opaque')], expect: { any: ['move d 7'] } },
  { rule: '7: opaque dir, a file removed below', b0: [b('d', 'dir'), b('d/x', A)], b1: [b('d', 'dir')], upper: [u('d', 'opaque')], expect: { any: ['move d 7'] } },
  { rule: '7: opaque dir over a directory the base removed', b0: [b('d', 'dir'), b('d/x', A)], b1: [], upper: [u('d', 'opaque')], expect: { any: ['keep d 7'] } },
  { rule: '7: opaque dir over a directory new in the base', b0: [], b1: [b('d', 'dir')], upper: [u('d', 'opaque')], expect: { any: ['move d 7'] } },
  {
    rule: '8: the base changed the directory mode',
    b0: [b('d', 'dir', { mode: 0o755 })], b1: [b('d', 'dir', { mode: 0o750 })], upper: [u('d', 'dir', { mode: 0o755 }), u('d/s', X)],
    expect: { any: ['attrs d 750 8'] },
  },
  {
    rule: '8: directory emptied and identical to the base',
    b0: [b('d', 'dir'), b('d/x', A)], b1: [b('d', 'dir'), b('d/x', B)], upper: [u('d', 'dir'), u('d/x', X)],
    expect: { default: ['move d/x 3', 'rmdir d 8'], 'rpm-noreplace': ['sidecar d/x.rpmnew<d/x 3', 'keep d/x 3'], 'dpkg-noreplace': ['sidecar d/x.dpkg-dist<d/x 3', 'keep d/x 3'], 'rpm-replace': ['rename d/x>d/x.rpmsave 3'], 'dpkg-replace': ['rename d/x>d/x.dpkg-old 3'] },
  },
  {
    rule: '8: emptied directory with a local mode stays',
    b0: [b('d', 'dir'), b('d/x', A)], b1: [b('d', 'dir'), b('d/x', B)], upper: [u('d', 'dir', { mode: 0o700 }), u('d/x', B)],
    expect: { any: ['move d/x 1'] },
  },
  {
    rule: '8: emptied directory with the host\'s xattrs stays',
    b0: [b('d', 'dir'), b('d/x', A)], b1: [b('d', 'dir'), b('d/x', B)], upper: [u('d', 'dir', { xattrs: 'user.origin' }), u('d/x', B)],
    expect: { any: ['move d/x 1'] },
  },
  {
    rule: '5: emptied directory the base removed, with the host\'s xattrs or mode: state now',
    b0: [b('d', 'dir'), b('e', 'dir'), b('e/x', A)], b1: [], upper: [u('d', 'dir', { xattrs: 'user.origin' }), u('e', 'dir', { mode: 0o700 }), u('e/x', A)],
    expect: { any: ['move e/x 5', 'keep d 5', 'keep e 5'] },
  },
  {
    rule: '8: base mode change, then emptied',
    b0: [b('d', 'dir'), b('d/x', A)], b1: [b('d', 'dir', { mode: 0o700 }), b('d/x', B)], upper: [u('d', 'dir'), u('d/x', B)],
    expect: { any: ['move d/x 1', 'attrs d 700 8', 'rmdir d 8'] },
  },
  { rule: '9: directory turned into a file under upper content', b0: [b('d', 'dir')], b1: [b('d', A)], upper: [u('d', 'dir'), u('d/s', X)], expect: { any: ['move d 9', '! d 9'] } },
  { rule: '9: file turned into a directory under an edit', b0: [b('p', A)], b1: [b('p', 'dir')], upper: [u('p', X)], expect: { any: ['move p 9', '! p 9'] } },
  { rule: '9: file turned into a directory under a whiteout', b0: [b('p', A)], b1: [b('p', 'dir')], upper: [u('p', 'whiteout')], expect: { any: ['move p 9', '! p 9'] } },
  { rule: '9: file turned into a directory under an opaque dir', b0: [b('p', A)], b1: [b('p', 'dir')], upper: [u('p', 'opaque')], expect: { any: ['move p 9', '! p 9'] } },
  {
    rule: '10: unknown base, shadow',
    b0: null, b1: [b('p', B)], upper: [u('p', X)],
    expect: { default: ['move p 10'], 'rpm-noreplace': ['sidecar p.rpmnew<p 10', 'keep p 10'], 'dpkg-noreplace': ['sidecar p.dpkg-dist<p 10', 'keep p 10'], 'rpm-replace': ['rename p>p.rpmsave 10'], 'dpkg-replace': ['rename p>p.dpkg-old 10'] },
  },
  { rule: '10: unknown base, identical copy-up', b0: null, b1: [b('p', B)], upper: [u('p', B)], expect: { any: ['move p 1'] } },
  { rule: '10: unknown base, whiteout kept', b0: null, b1: [b('p', B)], upper: [u('p', 'whiteout')], expect: { any: ['keep p 10'] } },
  { rule: '10: unknown base, state', b0: null, b1: [], upper: [u('p', X)], expect: { any: [] } },
  {
    rule: '10: unknown base, merged dir recursed',
    b0: null, b1: [b('d', 'dir'), b('d/x', B)], upper: [u('d', 'dir'), u('d/x', X), u('d/s', X)],
    expect: { default: ['move d/x 10'], 'rpm-noreplace': ['sidecar d/x.rpmnew<d/x 10', 'keep d/x 10'], 'dpkg-noreplace': ['sidecar d/x.dpkg-dist<d/x 10', 'keep d/x 10'], 'rpm-replace': ['rename d/x>d/x.rpmsave 10'], 'dpkg-replace': ['rename d/x>d/x.dpkg-old 10'] },
  },
  { rule: 'foreign entries are reported, never touched', b0: [b('p', A)], b1: [b('p', B)], upper: [u('p', 'metacopy')], expect: { any: ['! p 2'] } },
  {
    rule: 'an older sidecar in the upper goes to backups first',
    b0: [b('p', A)], b1: [b('p', B)], upper: [u('p', X), u('p.rpmnew', 'file:old'), u('p.dpkg-dist', 'file:old'), u('p.rpmsave', 'file:old'), u('p.dpkg-old', 'file:old')],
    expect: {
      default: ['move p 3'],
      'rpm-noreplace': ['move p.rpmnew 3', 'sidecar p.rpmnew<p 3', 'keep p 3'],
      'dpkg-noreplace': ['move p.dpkg-dist 3', 'sidecar p.dpkg-dist<p 3', 'keep p 3'],
      'rpm-replace': ['move p.rpmsave 3', 'rename p>p.rpmsave 3'],
      'dpkg-replace': ['move p.dpkg-old 3', 'rename p>p.dpkg-old 3'],
    },
  },
  {
    rule: 'a sidecar name the base ships is never written',
    b0: [b('p', A)], b1: [b('p', B), b('p.rpmnew', A), b('p.dpkg-dist', A), b('p.rpmsave', A), b('p.dpkg-old', A)], upper: [u('p', X)],
    expect: { default: ['move p 3'], noreplace: ['keep p 3', '! p 3'], replace: ['keep p 3', '! p 3'] },
  },
];

describe('planReconcile, Reconcile=changed: the decision table', () => {
  for (const row of ROWS) {
    for (const v of VARIANTS) {
      it(`rule ${row.rule} [${v}]`, () => {
        const plan = planReconcile({ b0: row.b0 === null ? null : view(...row.b0), b1: view(...row.b1), upper: row.upper, config: variantConfig(v) });
        expect(lines(plan)).toEqual(expected(row.expect, v));
        for (const a of [...plan.actions, ...plan.conflicts]) expect(a.reason).not.toBe('');
      });
    }
  }

  it('rule 10 with UnknownBase=keep changes nothing', () => {
    const plan = planReconcile({ b0: null, b1: view(b('p', B)), upper: [u('p', X), u('q', 'whiteout')], config: config({ unknownBase: 'keep' }) });
    expect(lines(plan)).toEqual([]);
  });

  it('Keep= globs are never touched, and say which rule they escaped', () => {
    const plan = planReconcile({
      b0: view(b('d', 'dir'), b('d/x', A), b('p', A)),
      b1: view(b('d', 'dir'), b('d/x', B), b('p', B)),
      upper: [u('d', 'dir'), u('d/x', X), u('p', X)],
      config: config({ paths: { keep: ['/opt/d/**', '/opt/p'] } }),
    });
    expect(lines(plan)).toEqual(['keep d 3', 'keep p 3']);
    expect(plan.actions[1]!.reason).toBe('Keep=/opt/p: declared state, left untouched (rule 3 would apply: the base changed this path)');
    // A directory under Keep= whose children are too: its record names the rule below, once, not nested.
    expect(plan.actions[0]!.reason).toBe('Keep=/opt/d/**: declared state, left untouched (rule 3 would apply: the base changed this path)');
  });

  it('matches globs against raw name bytes', () => {
    const name = Buffer.from('caf\xc3\xa9.conf', 'latin1').toString('latin1'); // "café.conf" in UTF-8
    const plan = planReconcile({
      b0: view(b(name, A)), b1: view(b(name, B)), upper: [u(name, X)],
      config: config({ paths: { config: ['/opt/café.conf'] } }),
    });
    expect(lines(plan)).toEqual([`sidecar ${name}.rpmnew<${name} 3`, `keep ${name} 3`]);
  });

  it('orders moves before renames, sidecars, attrs and rmdirs (deepest first)', () => {
    const plan = planReconcile({
      b0: view(b('a', 'dir'), b('a/b', 'dir'), b('a/b/f', A), b('a/g', A), b('c', A)),
      b1: view(b('a', 'dir'), b('a/b', 'dir'), b('a/b/f', B), b('a/g', B), b('c', B)),
      upper: [u('a', 'dir'), u('a/b', 'dir'), u('a/b/f', X), u('a/g', X), u('c', X)],
      config: config(),
    });
    expect(lines(plan)).toEqual(['move a/b/f 3', 'move a/g 3', 'move c 3', 'rmdir a/b 8', 'rmdir a 8']);
  });
});

describe('planReconcile, Reconcile=all: ostree state-overlay pruning', () => {
  const cases: Array<[string, BaseEntry[], UpperEntry[], string[]]> = [
    ['state file', [], [u('s', X)], []],
    ['whiteout over nothing', [], [u('s', 'whiteout')], []],
    ['edit of an unchanged base file', [b('p', A)], [u('p', X)], ['move p 3']],
    ['identical copy-up', [b('p', A)], [u('p', A)], ['move p 1']],
    ['whiteout', [b('p', A)], [u('p', 'whiteout')], ['move p 4']],
    ['opaque dir', [b('d', 'dir')], [u('d', 'opaque'), u('d/s', X)], ['move d 7']],
    ['type change', [b('p', A)], [u('p', 'dir'), u('p/s', X)], ['move p 3']],
    ['merged dir: children pruned, the dir stays even when empty', [b('d', 'dir'), b('d/x', A)], [u('d', 'dir', { mode: 0o700 }), u('d/x', X), u('d/s', X)], ['move d/x 3']],
    ['merged dir emptied stays', [b('d', 'dir'), b('d/x', A)], [u('d', 'dir'), u('d/x', X)], ['move d/x 3']],
    ['config class makes no difference', [b('etc', 'dir'), b('etc/c', A)], [u('etc', 'dir'), u('etc/c', X)], ['move etc/c 3']],
  ];
  for (const [name, b1, upper, want] of cases) {
    it(name, () => {
      for (const b0 of [null, view(...b1)]) {
        const plan = planReconcile({ b0, b1: view(...b1), upper, config: config({ reconcile: 'all', paths: { config: ['/opt/etc/**'] } }) });
        expect(lines(plan)).toEqual(want);
      }
    });
  }
  it('still honours Keep=', () => {
    const plan = planReconcile({ b0: null, b1: view(b('p', A)), upper: [u('p', X)], config: config({ reconcile: 'all', paths: { keep: ['/opt/p'] } }) });
    expect(lines(plan)).toEqual(['keep p 3']);
  });
});

describe('planReconcile, Reconcile=none', () => {
  it('never plans anything', () => {
    const plan = planReconcile({ b0: view(b('p', A)), b1: view(b('p', B)), upper: [u('p', X), u('q', 'whiteout')], config: config({ reconcile: 'none' }) });
    expect(plan).toEqual({ actions: [], conflicts: [] });
  });
});

describe('diff agrees with the plan on every row of the table', () => {
  for (const row of ROWS.filter((r) => r.b0 !== null)) {
    for (const v of VARIANTS) {
      it(`rule ${row.rule} [${v}]`, () => {
        const [b0, b1] = [view(...row.b0!), view(...row.b1)];
        const plan = planReconcile({ b0, b1, upper: row.upper, config: variantConfig(v) });
        const top = topPaths(row.upper);
        const diff = new Map(row.upper.filter((e) => top.has(e.path) && e.kind !== 'state').map((e) => [e.path, { kind: e.kind, base: changeUnder(e.kind, e.path, b0, b1) }]));
        expect(disagreements(diff, plan.actions)).toEqual([]);
      });
    }
  }
});
