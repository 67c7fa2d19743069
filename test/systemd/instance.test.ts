import { describe, expect, it } from 'vitest';
import { checkMountpoint, parseInstance } from '../../src/systemd/instance.js';

describe('parseInstance', () => {
  it.each([
    ['opt', '/opt'],
    ['usr-local', '/usr/local'],
    ['opt-my\\x2dapp', '/opt/my-app'],
    ['srv-\\xc3\\xa9t\\xc3\\xa9', '/srv/été'],
  ])('%s → %s', (name, mountpoint) => {
    expect(parseInstance(name)).toEqual({ name, mountpoint });
  });

  it.each([
    ['-', "NAME '-': mountpoint '/' cannot be overlaid: the root filesystem is not a valid target"],
    ['proc', "NAME 'proc': mountpoint '/proc' lies in /proc, which cannot be overlaid"],
    ['sys-fs', "NAME 'sys-fs': mountpoint '/sys/fs' lies in /sys, which cannot be overlaid"],
    ['dev', "NAME 'dev': mountpoint '/dev' lies in /dev, which cannot be overlaid"],
    ['run-foo', "NAME 'run-foo': mountpoint '/run/foo' lies in /run, which cannot be overlaid"],
    ['var-lib-state\\x2doverlay-opt', "NAME 'var-lib-state\\x2doverlay-opt': mountpoint '/var/lib/state-overlay/opt' lies in the state directory /var/lib/state-overlay"],
    ['var', "NAME 'var': mountpoint '/var' contains the state directory /var/lib/state-overlay: the overlay would hide its own upper"],
    ['opt/x', "NAME 'opt/x' is not a systemd-escaped path (use 'systemd-escape --path /opt' → 'opt')"],
    ['', "NAME '' is not a systemd-escaped path (use 'systemd-escape --path /opt' → 'opt')"],
    ['opt--x', "NAME 'opt--x' is not a valid systemd-escaped path"],
    ['opt-\\x2e\\x2e', "NAME 'opt-\\x2e\\x2e' is not a valid systemd-escaped path"],
    ['.opt', "NAME '.opt' is not in canonical form: expected '\\x2eopt'"],
    ['opt-my-app\\x2f', "NAME 'opt-my-app\\x2f' is not in canonical form: expected 'opt-my-app'"],
  ])('refuses %j', (name, message) => {
    expect(() => parseInstance(name)).toThrow(message);
    try {
      parseInstance(name);
    } catch (err) {
      expect((err as { code: string }).code).toBe('usage');
    }
  });
});

describe('checkMountpoint', () => {
  it.each([
    ['opt', "mountpoint 'opt' is relative: an absolute path is required"],
    ['/opt/../etc', "mountpoint '/opt/../etc' contains '..'"],
    ['/run', "mountpoint '/run' lies in /run, which cannot be overlaid"],
    ['//', "mountpoint '/' cannot be overlaid: the root filesystem is not a valid target"],
  ])('refuses %j', (p, message) => {
    expect(() => checkMountpoint(p)).toThrow(message);
  });

  it('normalizes', () => {
    expect(checkMountpoint('/opt//x/./')).toBe('/opt/x');
    expect(checkMountpoint('/proceed')).toBe('/proceed');
  });
});
