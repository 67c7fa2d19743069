import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { escapePath, unescapePath } from '../../src/systemd/escape.js';

function systemdEscape(args: string[]): { ok: true; out: string } | { ok: false } {
  try {
    const out = execFileSync('systemd-escape', [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { ok: true, out: out.replace(/\n$/, '') };
  } catch {
    return { ok: false };
  }
}

const hostile = [
  '/opt',
  '/usr/local',
  '/opt/my-app',
  '/opt/my app',
  '/opt//x/',
  '/opt/./x',
  '/.hidden',
  '/opt/.hidden/x',
  '/a.b/c..d/e...',
  '/opt/é/日本',
  '/opt/a\\b',
  '/opt/a:b_c',
  '/opt/-lead',
  '/opt/trail-',
  '/opt/x\ty',
  '/opt/😀',
  '/',
  '//',
  '/opt/',
];

// Deterministic pseudo-random paths over an alphabet rich in characters systemd escapes.
function randomPaths(n: number, seed = 42): string[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const alphabet = ['a', 'Z', '9', '-', '.', '_', ':', ' ', 'é', '/', '\\', '~', '@', '+', ',', '=', '%', '#', '!', 'ß', '\u00a0'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let p = '/';
    const len = 1 + Math.floor(rnd() * 16);
    for (let j = 0; j < len; j++) p += alphabet[Math.floor(rnd() * alphabet.length)];
    out.push(p);
  }
  return out;
}

describe('escapePath matches systemd-escape --path', () => {
  const paths = [...hostile, ...randomPaths(200)];
  it.each(paths)('%j', (p) => {
    const real = systemdEscape(['--path', '--', p]);
    if (!real.ok) {
      expect(() => escapePath(p)).toThrow();
      return;
    }
    expect(escapePath(p)).toBe(real.out);
  });

  it('refuses what systemd refuses', () => {
    expect(systemdEscape(['--path', '--', '/a/../b']).ok).toBe(false);
    expect(() => escapePath('/a/../b')).toThrow("'/a/../b' is not a normalized path (contains '..')");
    expect(() => escapePath('opt')).toThrow("'opt' is not an absolute path");
  });
});

describe('unescapePath matches systemd-escape --unescape --path', () => {
  const names = [
    ...hostile.map((p) => (systemdEscape(['--path', '--', p]) as { out: string }).out),
    ...randomPaths(200, 7).map((p) => escapePath(p)),
    'a--b',
    '-a',
    'a-',
    'a\\xzz',
    'a\\x2',
    '\\x2e\\x2e',
    'x\\x2fy',
  ];
  it.each(names)('%j', (name) => {
    const real = systemdEscape(['--unescape', '--path', '--', name]);
    if (!real.ok) {
      expect(() => unescapePath(name)).toThrow();
      return;
    }
    expect(unescapePath(name)).toBe(real.out);
  });

  it('round-trips', () => {
    for (const p of randomPaths(100, 9)) {
      let norm: string;
      try {
        norm = unescapePath(escapePath(p));
      } catch {
        continue;
      }
      expect(escapePath(norm)).toBe(escapePath(p));
    }
  });
});
