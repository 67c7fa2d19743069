// Output that cannot be written: standard output or standard error on a full device (/dev/full), or
// closed. A logging or output failure never stops a mount and never prints a stack trace.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMountinfo } from '../../src/mount/mountinfo.js';
import { BIN, cli, recordCase, scratchTop } from './harness.js';

const scratch = scratchTop('so-output-');

/** Runs the CLI with stdout or stderr on /dev/full; the other stream is captured. */
function withFull(root: string, args: readonly string[], full: 'stdout' | 'stderr'): Promise<{ code: number | null; captured: string }> {
  const fd = fs.openSync('/dev/full', 'w');
  const stdio: ['ignore', number | 'pipe', number | 'pipe'] = full === 'stdout' ? ['ignore', fd, 'pipe'] : ['ignore', 'pipe', fd];
  const child = spawn(process.execPath, [BIN, '--root', root, ...args], { stdio, env: { ...process.env, INVOCATION_ID: '', JOURNAL_STREAM: '' } });
  fs.closeSync(fd);
  let captured = '';
  (full === 'stdout' ? child.stderr : child.stdout)?.on('data', (b: Buffer) => (captured += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, captured })));
}

async function base(): Promise<string> {
  const root = scratch.next();
  fs.mkdirSync(path.join(root, 'opt/app'), { recursive: true });
  fs.writeFileSync(path.join(root, 'opt/app/tool'), 'v1\n');
  return root;
}

const overlayOn = (target: string) => readMountinfo().some((m) => m.mountpoint === target && m.fstype === 'overlay');

describe('output that cannot be written', () => {
  it('status with stdout on a full device: one clear line, exit 1, no stack', async () => {
    const root = await base();
    const r = await withFull(root, ['status', 'opt'], 'stdout');
    expect(r.code).toBe(1);
    expect(r.captured).toBe('state-overlay: cannot write the output to standard output: ENOSPC\n');
    recordCase('disk faults', 'status to a full stdout: a clear error, no stack');
  });

  it('run with stderr (the log) on a full device still mounts, and reports the mount on stdout', async () => {
    const root = await base();
    const target = path.join(root, 'opt');
    try {
      const r = await withFull(root, ['run', 'opt'], 'stderr');
      expect(r.code).toBe(0);
      expect(r.captured).toMatch(/^mounted opt on /);
      expect(overlayOn(target)).toBe(true);
    } finally {
      await cli(root, ['-q', 'unmount', 'opt']);
    }
    recordCase('disk faults', 'run with a full stderr: mounted all the same');
  });

  it('run with stdout on a full device mounts, then says it could not report', async () => {
    const root = await base();
    const target = path.join(root, 'opt');
    try {
      const r = await withFull(root, ['-q', 'run', 'opt'], 'stdout');
      expect(overlayOn(target)).toBe(true);
      expect(r.captured).toBe('state-overlay: cannot write the output to standard output: ENOSPC\n');
      expect(r.code).toBe(1);
    } finally {
      await cli(root, ['-q', 'unmount', 'opt']);
    }
  });
});
