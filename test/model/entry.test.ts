// RelPath is a brand over string: only its constructors make one, so UTF-8 decoded text is a type error
// (checked by `npm run typecheck`: each @ts-expect-error fails the build once its line compiles).
import { describe, expect, expectTypeOf, it } from 'vitest';
import { viewOf } from '../../src/manifest/store.js';
import { TREE_ROOT, displayPath, fromBytes, isUnder, joinRel, parentOf, relFromText, relPath, toBytes, type BaseEntry, type RelPath } from '../../src/model/entry.js';
import { comparePaths } from '../../src/model/order.js';

const utf8 = (text: string): string => Buffer.from(text).toString('utf8');

describe('RelPath', () => {
  it('is not made from a plain string', () => {
    // @ts-expect-error: text decoded as UTF-8 is not a RelPath
    const _decoded: RelPath = Buffer.from('café').toString('utf8');
    // @ts-expect-error: nor is a literal
    const _literal: RelPath = 'a/b';
    // @ts-expect-error: toBytes takes a RelPath
    toBytes(utf8('a/b'));
    // @ts-expect-error: displayPath takes a RelPath
    displayPath(utf8('a/b'));
    // @ts-expect-error: so does every API a RelPath is passed to
    joinRel(relPath('a'), 'b');
    // @ts-expect-error: comparePaths too
    comparePaths('a', relPath('b'));
    // @ts-expect-error: a view is asked by RelPath
    viewOf([]).get(utf8('a'));
    // @ts-expect-error: an entry's path is a RelPath
    const _entry: BaseEntry = { path: 'a', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, digest: '' };
    expectTypeOf<string>().not.toExtend<RelPath>();
  });

  it('is made by its constructors, each as documented', () => {
    expectTypeOf(fromBytes(Buffer.from('a'))).toEqualTypeOf<RelPath>();
    expectTypeOf(relPath('a')).toEqualTypeOf<RelPath>();
    expectTypeOf(relFromText('a')).toEqualTypeOf<RelPath>();
    expectTypeOf(joinRel(relPath('a'), relPath('b'))).toEqualTypeOf<RelPath>();
    expectTypeOf(parentOf(relPath('a/b'))).toEqualTypeOf<RelPath>();
    expectTypeOf(TREE_ROOT).toEqualTypeOf<RelPath>();
    expect(fromBytes(Buffer.from([0x61, 0xff, 0x2f, 0x62]))).toBe('a\xff/b');
    expect(fromBytes(Buffer.from('xa/by'), 1, 4)).toBe('a/b');
    // Text a person typed is encoded to its UTF-8 bytes, one char per byte.
    expect(relFromText('café')).toBe('caf\xc3\xa9');
    expect(toBytes(relFromText('café'))).toEqual(Buffer.from('café', 'utf8'));
    expect(relPath('a\xff')).toBe('a\xff');
    expect(joinRel(TREE_ROOT, relPath('a'))).toBe('a');
    expect(joinRel(relPath('a'), relPath('b'))).toBe('a/b');
    expect(parentOf(relPath('a/b'))).toBe('a');
    expect(parentOf(relPath('a'))).toBe(TREE_ROOT);
    expect(TREE_ROOT).toBe('');
  });

  it('reads as the string it is: no wrapper, a Map key, compared and searched as one', () => {
    const p = relPath('etc/app.conf');
    expectTypeOf(p).toExtend<string>();
    expect(typeof p).toBe('string');
    const byName = new Map<string, number>([[p, 1]]);
    expect(byName.get('etc/app.conf')).toBe(1);
    expect(p === 'etc/app.conf' && p.startsWith('etc/') && isUnder(p, relPath('etc'))).toBe(true);
    expect(displayPath(relFromText('café'))).toBe('café');
    expect(displayPath(fromBytes(Buffer.from([0x62, 0xff])))).toBe('b\\xff');
  });
});
