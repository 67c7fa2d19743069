import { describe, expect, it } from 'vitest';
import type { BaseEntry } from '../../src/model/entry.js';
import { underAnyOf } from '../../src/model/order.js';
import { changeUnder, entryChange, subtreeChange } from '../../src/plan/change.js';
import { viewOf } from '../../src/manifest/store.js';
import { rel } from '../model/rel.js';

const f = (path: string, digest: string, extra: Partial<BaseEntry> = {}): BaseEntry => ({ path: rel(path), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, digest, ...extra });
const d = (path: string, extra: Partial<BaseEntry> = {}): BaseEntry => ({ path: rel(path), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 4096, digest: '', ...extra });

describe('entryChange', () => {
  it.each([
    ['both absent', undefined, undefined, false, 'absent'],
    ['added', undefined, f('p', 'a'), false, 'added'],
    ['removed', f('p', 'a'), undefined, false, 'removed'],
    ['same content, other mode', f('p', 'a'), f('p', 'a', { mode: 0o600 }), false, 'unchanged'],
    ['same content, other mode, attrs compared', f('p', 'a'), f('p', 'a', { mode: 0o600 }), true, 'changed'],
    ['other content', f('p', 'a'), f('p', 'b'), false, 'changed'],
    ['type change', f('p', ''), d('p'), false, 'changed'],
    ['dir owner change', d('p'), d('p', { uid: 5 }), true, 'changed'],
  ] as const)('%s', (_n, b0, b1, attrs, want) => {
    expect(entryChange(b0, b1, attrs)).toBe(want);
  });
});

describe('subtreeChange', () => {
  const b0 = viewOf([d('o'), f('o/a', '1'), d('o/s'), f('o/s/b', '2'), f('other', '3')]);
  it.each([
    ['nothing changed', [d('o'), f('o/a', '1'), d('o/s'), f('o/s/b', '2'), f('other', '9')], 'unchanged'],
    ['a file below changed', [d('o'), f('o/a', '1'), d('o/s'), f('o/s/b', '7')], 'changed'],
    ['a file below added', [d('o'), f('o/a', '1'), d('o/s'), f('o/s/b', '2'), f('o/new', '1')], 'changed'],
    ['a file below removed', [d('o'), d('o/s'), f('o/s/b', '2')], 'changed'],
    ['the dir itself removed', [], 'removed'],
    ['the dir became a file', [f('o', 'x')], 'changed'],
  ] as const)('%s', (_n, b1, want) => {
    expect(subtreeChange(b0, viewOf(b1), rel('o'))).toBe(want);
    expect(changeUnder('opaque-dir', rel('o'), b0, viewOf(b1))).toBe(want);
  });
});

describe('underAnyOf', () => {
  it.each([
    ['a/b', ['a'], true],
    ['a', ['a'], false],
    ['ab/c', ['a'], false],
    ['x/y/z/w', ['x/y'], true],
    ['x', [], false],
    // a sibling that sorts between a dir and its subtree in plain string order ('-' < '/')
    ['a/x', ['a', 'a-b'], true],
    ['a-b/x', ['a', 'a-b'], true],
    ['a-c', ['a', 'a-b'], false],
    // nested dirs, and the root
    ['x/y/z', ['x/y/z', 'x'], true],
    ['x', ['x/y', 'x'], false],
    ['q/r', [''], true],
    ['b', ['a', 'c'], false],
    ['c\xff/d', ['c', 'c\xff'], true],
  ] as const)('%s under %j', (p, dirs, want) => {
    expect(underAnyOf(dirs.map((x) => rel(x)))(rel(p))).toBe(want);
  });

  it('agrees with a check of every ancestor on random paths', () => {
    const names = ['a', 'b', 'a-', 'a.b', 'ab', '\xff', ' '];
    let seed = 7;
    const pick = () => names[(seed = (seed * 1103515245 + 12345) % 2147483648) % names.length]!;
    const randomPath = () => rel(Array.from({ length: 1 + (seed % 4) }, pick).join('/'));
    for (let round = 0; round < 200; round++) {
      const dirs = Array.from({ length: 1 + (round % 6) }, randomPath);
      const below = underAnyOf(dirs);
      for (let k = 0; k < 20; k++) {
        const p = randomPath();
        const want = dirs.some((d) => p.startsWith(`${d}/`));
        expect(below(p), `${p} under ${JSON.stringify(dirs)}`).toBe(want);
      }
    }
  });
});

describe('viewOf().under', () => {
  const view = viewOf([d('a'), d('a/x'), f('a/x/z', '1'), d('a-b'), f('a-b/y', '2'), f('a.c', '3'), f('a\xff', '4'), f('b', '5')]);
  const under = (dir: string) => [...view.under(rel(dir))].map((e) => e.path).sort();
  it.each([
    ['a', ['a/x', 'a/x/z']],
    ['a/x', ['a/x/z']],
    ['a-b', ['a-b/y']],
    ['a.c', []],
    ['missing', []],
    ['', ['a', 'a-b', 'a-b/y', 'a.c', 'a/x', 'a/x/z', 'a\xff', 'b']],
  ] as const)('below %j', (dir, want) => {
    expect(under(dir)).toEqual([...want].sort());
  });
});
