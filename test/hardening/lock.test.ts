// The overlay's lock against what a host does around it: a second runner in another network namespace,
// an admin holding the overlay still with flock(1), a holder killed with SIGKILL while its child lives on.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tryRun } from '../../src/exec.js';
import { acquireLock } from '../../src/state/lock.js';
import { snapshot } from '../ops/scratch.js';
import { buildCliCase, smallCase } from './cases.js';
import { BIN, REPO, assertNothingLost, cli, scratchTop } from './harness.js';

const scratch = scratchTop('so-lock-', 'mode=0755,size=64m');
const fresh = () => buildCliCase(scratch.next(), smallCase('lock', 4));

/**
 * Spawns a process in its own process group and resolves once it printed its first line (it holds what
 * it was asked to by then). flock(1) hands the locked file to its command, so stopping it ends the group.
 */
async function started(file: string, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`${file} exited ${code} before it was ready`)));
  });
  return child;
}

async function stop(child: ChildProcess, group = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  if (group) process.kill(-child.pid!, 'SIGKILL');
  else child.kill('SIGKILL');
  await gone;
}

describe('the overlay lock', () => {
  it('holds across network namespaces: a reconcile under unshare -n is refused busy while this process holds it', async () => {
    const { s, original, root } = await fresh();
    fs.mkdirSync(s.ov.layout.stateDir, { recursive: true });
    const lock = await acquireLock(s.ov.layout.lockFile, { what: 'test' });
    try {
      const r = await tryRun('unshare', ['-n', process.execPath, BIN, '--root', root, '-q', 'reconcile', 'opt'], { timeoutMs: 60_000 });
      expect(r.stderr).toBe(`state-overlay: overlay opt: lock ${s.ov.layout.lockFile} is held by pid ${process.pid}`);
      expect(r.exitCode).toBe(75);
      expect(snapshot(s.ov.layout.upper)).toEqual(original);
      expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
    } finally {
      await lock.release();
    }
    assertNothingLost('concurrency', 'lock held across network namespaces', s.ov.layout, original);
  });

  it("an admin's flock(1) on the lock file holds the overlay still: reconcile fails busy naming the lock and flock, run waits for it", async () => {
    const { s, original, root } = await fresh();
    fs.mkdirSync(s.ov.layout.stateDir, { recursive: true });
    const file = s.ov.layout.lockFile;
    const admin = await started('flock', [file, 'sh', '-c', 'echo held; exec sleep 60']);
    try {
      const t0 = Date.now();
      const r = await cli(root, ['reconcile', 'opt']);
      expect(r.stderr).toBe(`state-overlay: overlay opt: lock ${file} is held by pid ${admin.pid}`);
      expect(r.exitCode).toBe(75);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(5000);
      expect(snapshot(s.ov.layout.upper)).toEqual(original);
      const waiting = cli(root, ['run', 'opt']);
      await new Promise((r) => setTimeout(r, 1500));
      expect(fs.existsSync(s.ov.layout.backupsDir)).toBe(false);
      await stop(admin, true);
      const ran = await waiting;
      expect(ran.stderr).toBe('');
      expect(ran.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(root, 'opt/bin/f1'), 'utf8')).toBe('f1 v2\n');
    } finally {
      await stop(admin, true);
      await cli(root, ['unmount', 'opt']);
    }
    assertNothingLost('concurrency', "admin's flock(1) on the lock", s.ov.layout, original);
  });

  it('is released by the kernel when its holder is killed with SIGKILL, though a child of the holder lives on', async () => {
    const root = scratch.next();
    const file = path.join(root, 'lock');
    const mod = path.join(REPO, 'dist/state/lock.js');
    const script = `import { acquireLock } from ${JSON.stringify(mod)};
import { spawn } from 'node:child_process';
await acquireLock(${JSON.stringify(file)});
const child = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
child.unref();
console.log(child.pid);
setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = await new Promise<number>((resolve, reject) => {
      holder.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      holder.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
    });
    try {
      await expect(acquireLock(file, { waitMs: 100 })).rejects.toMatchObject({ code: 'busy' });
      await stop(holder);
      expect(fs.existsSync(`/proc/${childPid}`)).toBe(true);
      const lock = await acquireLock(file, { waitMs: 0 });
      await lock.release();
      const free = await tryRun('flock', ['-n', file, 'true']);
      expect(free.exitCode).toBe(0);
    } finally {
      await stop(holder);
      process.kill(childPid, 'SIGKILL');
    }
  });
});
