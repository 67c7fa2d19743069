// Scratch trees for integration tests: a --root with a base under it, torn down with every mount below it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createContext, type Context } from '../../src/cli/context.js';
import { tryRun } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { readMountinfo } from '../../src/mount/mountinfo.js';

export interface Scratch {
  readonly root: string;
  readonly log: ReturnType<typeof memoryLog>;
  ctx(): Context;
  /** Writes a file under the root (parents created). */
  write(rel: string, content: string): string;
  /** Mountpoints under the root, in mount order. */
  mounts(): string[];
  /** Starts a `sleep 600` with its cwd in dir, keeping a mount busy; cleanup() stops it. */
  hold(cwd: string): Promise<ChildProcess>;
  cleanup(): Promise<void>;
}

export function makeScratch(files: Record<string, string> = { 'opt/app/bin/tool': 'v1\n', 'opt/app/etc/app.conf': 'a=1\n' }): Scratch {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'so-mount-')));
  const log = memoryLog();
  const write = (rel: string, content: string) => {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  };
  fs.mkdirSync(path.join(root, 'opt'));
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  const holders: ChildProcess[] = [];
  const mounts = () => readMountinfo().filter((m) => m.mountpoint === root || m.mountpoint.startsWith(root + '/')).map((m) => m.mountpoint);
  return {
    root,
    log,
    ctx: () => createContext({ root }, log),
    write,
    mounts,
    async hold(cwd) {
      const child = await spawnHolder(cwd);
      holders.push(child);
      return child;
    },
    async cleanup() {
      for (const c of holders.splice(0)) await stopChild(c);
      for (let i = 0; i < 20; i++) {
        const left = mounts();
        if (left.length === 0) break;
        await tryRun('umount', ['-l', left[left.length - 1]!]);
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

const REPO = path.resolve(import.meta.dirname, '../..');

/** Runs the built CLI (`node bin/state-overlay.js --root ROOT ...`); dist/ is built by test/global-setup.ts. */
export async function cli(root: string, args: readonly string[], env: Record<string, string | undefined> = {}) {
  return tryRun(process.execPath, [path.join(REPO, 'bin/state-overlay.js'), '--root', root, ...args], { env });
}

/** A `sleep 600` with its cwd inside dir: it keeps a mount busy until stopped. */
export async function spawnHolder(cwd: string): Promise<ChildProcess> {
  const child = spawn('sleep', ['600'], { cwd, stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  return child;
}

export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}
