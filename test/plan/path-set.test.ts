import { describe, expect, it } from 'vitest';
import { PathSet } from '../../src/plan/path-set.js';
import { rel } from '../model/rel.js';

describe('PathSet', () => {
  it.each([
    [['a/b'], 'a', true],
    [['a'], 'a', false],
    [['ab/c', 'a-b/c', 'a.b'], 'a', false],
    [['a-b', 'a/x/y'], 'a', true],
    [['x'], '', true],
    [[], '', false],
    [['a\xff/b'], 'a\xff', true],
  ] as const)('%j has something below %j: %s', (paths, dir, want) => {
    expect(new PathSet(paths.map((x) => rel(x))).hasBelow(rel(dir))).toBe(want);
  });

  it('agrees with a scan of every path as paths are added', () => {
    const names = ['a', 'b', 'a-', 'a.b', '\xff', ' '];
    let seed = 11;
    const pick = () => names[(seed = (seed * 1103515245 + 12345) % 2147483648) % names.length]!;
    const randomPath = () => rel(Array.from({ length: 1 + (seed % 3) }, pick).join('/'));
    const set = new PathSet([]);
    const all: string[] = [];
    for (let i = 0; i < 300; i++) {
      const p = randomPath();
      set.add(p);
      all.push(p);
      const dir = randomPath();
      expect(set.hasBelow(dir), `${dir} over ${all.length} paths`).toBe(all.some((q) => q.startsWith(`${dir}/`)));
      expect(set.has(dir)).toBe(all.includes(dir));
    }
  });
});
