import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tryRun } from '../../src/exec.js';
import { acquireLock, withLock } from '../../src/state/lock.js';
import { removeTree, scratch } from '../tree/fixtures.js';

let root: string;
beforeEach(() => {
  root = scratch('so-lock-');
});
afterEach(async () => {
  await removeTree(root);
});

const LOCK_MODULE = path.resolve(import.meta.dirname, '../../dist/state/lock.js');
const holderScript = (file: string) =>
  `import { acquireLock } from ${JSON.stringify(LOCK_MODULE)}; await acquireLock(${JSON.stringify(file)}); console.log('held'); setInterval(() => {}, 1000);`;

/** A separate process holding the lock (the module's own code), alive until killed. */
async function holder(file: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', holderScript(file)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return child;
}

describe('per-overlay lock', () => {
  it('is taken once: a second take in the same process is busy like any other, and it releases', async () => {
    const file = path.join(root, 'lock');
    const order: string[] = [];
    await withLock(file, {}, async () => {
      order.push('outer');
      await expect(withLock(file, { waitMs: 100, what: 'overlay opt' }, async () => void order.push('inner'))).rejects.toMatchObject({ code: 'busy' });
    });
    expect(order).toEqual(['outer']);
    const again = await acquireLock(file, { waitMs: 0 });
    await again.release();
  });

  it('fails busy naming the lock file and holder, and a holder killed with SIGKILL does not wedge it', async () => {
    const file = path.join(root, 'lock');
    const child = await holder(file);
    try {
      const started = Date.now();
      await expect(acquireLock(file, { waitMs: 300, what: 'overlay opt' })).rejects.toMatchObject({
        code: 'busy',
        message: `overlay opt: lock ${file} is held by pid ${child.pid}`,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const lock = await acquireLock(file, { waitMs: 2000 });
    expect(fs.readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('waits for a holder that lets go', async () => {
    const file = path.join(root, 'lock');
    const child = await holder(file);
    setTimeout(() => child.kill('SIGTERM'), 200);
    const lock = await acquireLock(file, { waitMs: 5000 });
    await lock.release();
  });

  it('is an flock(2) on the lock file, which flock(1) sees; the file is made 0600 and its fd is not inherited', async () => {
    const file = path.join(root, 'lock');
    const lock = await acquireLock(file);
    try {
      expect((await tryRun('flock', ['-n', file, 'true'])).exitCode).toBe(1);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const fd = fs.readdirSync('/proc/self/fd').find((n) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${n}`) === file;
        } catch {
          return false; // the fd readdir itself had open, closed by now
        }
      });
      expect(fd).toBeDefined();
      // O_CLOEXEC is 02000000 in the octal flags of fdinfo.
      const flags = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!;
      expect(parseInt(flags, 8) & 0o2000000).toBe(0o2000000);
    } finally {
      await lock.release();
    }
    expect((await tryRun('flock', ['-n', file, 'true'])).exitCode).toBe(0);
  });

  it('refuses a lock file that is a symlink', async () => {
    const file = path.join(root, 'lock');
    fs.symlinkSync(path.join(root, 'elsewhere'), file);
    await expect(acquireLock(file, { waitMs: 0 })).rejects.toMatchObject({ code: 'io', message: `open lock file ${file}: ELOOP` });
    expect(fs.existsSync(path.join(root, 'elsewhere'))).toBe(false);
  });

  it('locks the file the path names when it was replaced between open and flock (strace holds flock back a second)', async () => {
    const file = path.join(root, 'lock');
    const tracee = () => Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim() || 0);
    const child = spawn('strace', ['-qq', '-o', '/dev/null', '-e', 'trace=flock', '-e', 'inject=flock:delay_enter=1000000:when=1', process.execPath, '--input-type=module', '-e', holderScript(file)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const held = new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      // The holder has opened the file once it exists; its flock is still a second away.
      while (!fs.existsSync(file)) await new Promise((r) => setTimeout(r, 10));
      fs.writeFileSync(path.join(root, 'new'), '');
      fs.renameSync(path.join(root, 'new'), file);
      await held;
      expect((await tryRun('flock', ['-n', file, 'true'])).exitCode).toBe(1);
      // The holder, strace's child, wrote its pid into the file it locked.
      expect(fs.readFileSync(file, 'utf8')).toBe(`${tracee()}\n`);
    } finally {
      const pid = tracee();
      if (pid > 0) process.kill(pid, 'SIGKILL');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
