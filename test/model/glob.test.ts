// globError agrees with picomatch's own strictBrackets parse, on a table and on generated globs.
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { globError } from '../../src/model/glob.js';
import { prng } from '../prng.js';

function picomatchError(glob: string): string | undefined {
  try {
    picomatch.makeRe(glob, { dot: true, strictBrackets: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('globError', () => {
  it.each([
    ['/opt/app/etc/**', undefined],
    ['/opt/*/{a,b}/[!x]*.conf', undefined],
    ['/srv6/[', 'Missing closing: "]" - use "\\\\]" to match literal characters'],
    ['/opt/{a,b', 'Missing closing: "}" - use "\\\\}" to match literal characters'],
    ['/opt/(x', 'Missing closing: ")" - use "\\\\)" to match literal characters'],
    ['/opt/x)', 'Missing opening: "(" - use "\\\\(" to match literal characters'],
    ['/opt/x]', 'Missing opening: "[" - use "\\\\[" to match literal characters'],
    ['/opt/\\[x', undefined],
    ['/opt/[]]', undefined],
    ['/opt/x}', undefined],
  ])('%j: %s', (glob, want) => {
    expect(globError(glob)).toBe(want);
    expect(picomatchError(glob)).toBe(want);
  });

  it('agrees with picomatch on 20000 generated globs', () => {
    const rnd = prng(19);
    const alphabet = ['a', '/', '*', '\\', '[', ']', '{', '}', '(', ')', '!', '^', ',', '-', '?', '@', '+', ':'];
    const disagree: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      let g = '/';
      const len = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < len; i++) g += alphabet[Math.floor(rnd() * alphabet.length)];
      if (globError(g) !== picomatchError(g)) disagree.push(`${JSON.stringify(g)}: ours ${globError(g)}, picomatch ${picomatchError(g)}`);
    }
    expect(disagree.slice(0, 10)).toEqual([]);
  });
});
