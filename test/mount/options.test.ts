import { describe, expect, it } from 'vitest';
import { overlayOptions, sameLayer } from '../../src/mount/options.js';
import { hasOverlayFs } from '../../src/mount/preflight.js';
import { mappedUnder } from '../../src/mount/holders.js';

describe('overlayOptions', () => {
  it('states every feature explicitly, in order', () => {
    expect(overlayOptions({ lowers: ['/run/state-overlay/opt/base'], upper: '/var/lib/state-overlay/opt/upper', work: '/var/lib/state-overlay/opt/work' })).toBe(
      'lowerdir=/run/state-overlay/opt/base,upperdir=/var/lib/state-overlay/opt/upper,workdir=/var/lib/state-overlay/opt/work,index=off,metacopy=off,redirect_dir=off,xino=off',
    );
  });

  it.each([
    ['a comma', '/a,b', 'lowerdir=/a\\,b'],
    ['a colon', '/a:b', 'lowerdir=/a\\:b'],
    ['a systemd escape', '/var/lib/state-overlay/opt-my\\x2dapp/upper', 'lowerdir=/var/lib/state-overlay/opt-my\\\\x2dapp/upper'],
  ])('escapes %s', (_, lower, want) => {
    expect(overlayOptions({ lowers: [lower], upper: '/u', work: '/w' }).split(',upperdir')[0]).toBe(want);
  });

  it.each([
    ['/u\\\\x2d', '/u\\x2d', true],
    ['/u\\x2d', '/u\\x2d', true],
    ['/u\\x2dz', '/u\\x2d', false],
    [undefined, '/u', false],
  ])('sameLayer(%j, %j) = %s', (shown, p, want) => {
    expect(sameLayer(shown, p)).toBe(want);
  });

  it('joins several lowers top first, each escaped', () => {
    expect(overlayOptions({ lowers: ['/a:b', '/c,d'], upper: '/u', work: '/w' }).split(',upperdir')[0]).toBe('lowerdir=/a\\:b:/c\\,d');
  });

  it('gives mount(2) its options exactly, the fixed ones last', () => {
    expect(overlayOptions({ lowers: ['/l'], upper: '/u', work: '/w' })).toBe('lowerdir=/l,upperdir=/u,workdir=/w,index=off,metacopy=off,redirect_dir=off,xino=off');
  });

  it.each([
    ['a newline', { lowers: ['/l\n'], upper: '/u', work: '/w' }, "lowerdir '/l\n' contains a newline, which overlay mount options cannot carry; use a path without it"],
    ['a relative path', { lowers: ['/a', 'l'], upper: '/u', work: '/w' }, "lowerdir 'l' is not an absolute path"],
  ])('refuses %s', (_, dirs, message) => {
    expect(() => overlayOptions(dirs)).toThrow(message);
  });
});

describe('hasOverlayFs', () => {
  it.each([
    ['nodev\tsysfs\nnodev\toverlay\n\text4\n', true],
    ['nodev\tsysfs\n\text4\n', false],
    ['nodev\toverlayfs\n', false],
    ['nodev\tfuse.overlay\n', false],
  ])('%j → %s', (text, want) => {
    expect(hasOverlayFs(text)).toBe(want);
  });
});

describe('mappedUnder', () => {
  const maps = [
    '55d0c0a00000-55d0c0a01000 r--p 00000000 fe:00 1234 /usr/bin/sleep',
    '7f0000000000-7f0000001000 r-xp 00000000 00:29 99 /opt/app/lib/libx.so',
    '7f0000002000-7f0000003000 r-xp 00000000 00:29 98 /opt/app/lib/lib y.so (deleted)',
    '7f0000004000-7f0000005000 rw-p 00000000 00:00 0 ',
    '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]',
    '7f0000006000-7f0000007000 r-xp 00000000 00:29 97 /optional/lib.so',
  ].join('\n');
  it('lists mapped files under the directory, exactly', () => {
    expect(mappedUnder(maps, '/opt')).toEqual(['/opt/app/lib/libx.so', '/opt/app/lib/lib y.so']);
  });
});
