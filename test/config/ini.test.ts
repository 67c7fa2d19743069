import { describe, expect, it } from 'vitest';
import { parseIni } from '../../src/config/ini.js';

describe('parseIni', () => {
  it('reads sections, repeated keys, comments and continuations with line numbers', () => {
    const text = ['# comment', '[Overlay]', 'Path=/opt', '; other comment', '', '[Paths]', 'Keep=/opt/a/**', 'Keep = /opt/b/**', 'Config=/opt/x \\', '  y'].join('\n');
    expect(parseIni(text, 'f.conf')).toEqual([
      { section: 'Overlay', key: 'Path', value: '/opt', file: 'f.conf', line: 3 },
      { section: 'Paths', key: 'Keep', value: '/opt/a/**', file: 'f.conf', line: 7 },
      { section: 'Paths', key: 'Keep', value: '/opt/b/**', file: 'f.conf', line: 8 },
      { section: 'Paths', key: 'Config', value: '/opt/x y', file: 'f.conf', line: 9 },
    ]);
  });

  it.each([
    ['[Overlay\nPath=/opt', "f.conf:1: malformed section header '[Overlay'"],
    ['Path=/opt', "f.conf:1: 'Path=/opt': assignment outside of a section"],
    ['[Overlay]\njust words', "f.conf:2: 'just words': expected Key=value"],
    ['[Overlay]\n=x', "f.conf:2: '=x': expected Key=value"],
    ['[Overlay]\nBad-Key=x', "f.conf:2: 'Bad-Key': invalid key name"],
  ])('refuses %j', (text, message) => {
    expect(() => parseIni(text, 'f.conf')).toThrow(message);
  });
});
