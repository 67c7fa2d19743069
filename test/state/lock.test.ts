import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, withLock } from '../../src/state/lock.js';
import { removeTree, scratch } from '../tree/fixtures.js';

let root: string;
beforeEach(() => {
  root = scratch('so-lock-');
});
afterEach(async () => {
  await removeTree(root);
});

/** A separate process holding the lock (the module's own code), alive until killed. */
async function holder(file: string) {
  const mod = path.resolve(import.meta.dirname, '../../dist/state/lock.js');
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { acquireLock } from ${JSON.stringify(mod)}; await acquireLock(${JSON.stringify(file)}); console.log('held'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
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
});
