// The VM suite's check that /var came back clean from a guest's power-off, on real ext4 images.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { uncleanExt4 } from '../../../vm-tests/lib/disk.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-vm-disk-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function image(name: string): string {
  const f = path.join(dir, name);
  execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', f, '16M']);
  return f;
}

describe('uncleanExt4', () => {
  it('a freshly made filesystem is clean', async () => {
    expect(await uncleanExt4(image('clean.img'))).toBeUndefined();
  });

  it('one left mounted (state not clean) is named so', async () => {
    const f = image('dirty.img');
    execFileSync('debugfs', ['-w', '-R', 'ssv state 0', f], { stdio: 'ignore' });
    expect(await uncleanExt4(f)).toBe('filesystem state "not clean"');
  });

  it('one whose journal needs recovery is named so', async () => {
    const f = image('journal.img');
    execFileSync('debugfs', ['-w', '-R', 'feature needs_recovery', f], { stdio: 'ignore' });
    expect(await uncleanExt4(f)).toBe('its journal needs recovery');
  });
});
