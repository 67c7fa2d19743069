// Shared frame of the hardening cases: scratch roots (with their mounts and chattr flags undone on cleanup),
// the CLI spawned as an operator would, and the "nothing lost" check every case ends with.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { run, tryRun, type ExecResult } from '../../src/exec.js';
import type { Layout } from '../../src/paths/layout.js';
import { readMountinfo } from '../../src/mount/mountinfo.js';
import { snapshot } from '../ops/scratch.js';
import { appendRecord, type Category } from './summary.js';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(REPO, 'bin/state-overlay.js');

/** A fresh scratch directory (mode 0755) under the system temp dir. */
export function scratchDir(prefix: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export function mountsUnder(dir: string): string[] {
  return readMountinfo().filter((m) => m.mountpoint === dir || m.mountpoint.startsWith(dir + '/')).map((m) => m.mountpoint);
}

export async function mountTmpfs(dir: string, options: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
}

/**
 * A fresh ext4 image (loop-mounted, freed on unmount) at dir: unlike tmpfs it holds security.* xattrs
 * and POSIX ACLs the way a disk does. The image file lies beside dir.
 */
export async function mountExt4(dir: string, sizeMiB: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const image = `${dir}.ext4`;
  fs.writeFileSync(image, '');
  fs.truncateSync(image, sizeMiB << 20);
  await run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
  await run('mount', ['-t', 'ext4', '-o', 'loop,acl,user_xattr', image, dir]);
  fs.chmodSync(dir, 0o700);
}

/** Unmounts everything below dir (innermost first), clears immutable/append-only flags, removes the tree. */
export async function removeScratch(dir: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const left = mountsUnder(dir);
    if (left.length === 0) break;
    await tryRun('umount', ['-l', left[left.length - 1]!]);
  }
  if (!fs.existsSync(dir)) return;
  await tryRun('chattr', ['-R', '-f', '-i', '-a', dir]);
  await run('rm', ['-rf', '--one-file-system', dir]);
}

/**
 * The scratch directory of one test file (its own tmpfs when options are given), made before and removed
 * after the file's tests; next() makes a fresh case directory in it.
 */
export function scratchTop(prefix: string, tmpfs?: string): { top(): string; next(): string } {
  let top = '';
  let n = 0;
  beforeAll(async () => {
    top = scratchDir(prefix);
    if (tmpfs !== undefined) await mountTmpfs(top, tmpfs);
  });
  afterAll(async () => {
    await removeScratch(top);
  });
  return {
    top: () => top,
    next() {
      const dir = path.join(top, `case-${++n}`);
      fs.mkdirSync(dir, { mode: 0o755 });
      return dir;
    },
  };
}

/** Runs the built CLI with --root ROOT; never throws on a non-zero exit. */
export function cli(root: string, args: readonly string[], env: Record<string, string | undefined> = {}): Promise<ExecResult> {
  return tryRun(process.execPath, [BIN, '--root', root, '-q', ...args], { env: { INVOCATION_ID: '', JOURNAL_STREAM: '', NOTIFY_SOCKET: '', ...env }, timeoutMs: 120_000 });
}

/** Every backup set's tree of an overlay, snapshotted. */
function backupSnapshots(layout: Layout): Map<string, string>[] {
  if (!fs.existsSync(layout.backupsDir)) return [];
  return fs.readdirSync(layout.backupsDir).map((set) => snapshot(path.join(layout.backupsDir, set, 'upper')));
}

/** Records a case in the summary without an upper to check (e.g. a refused command). */
export function recordCase(category: Category, name: string, checked = 0, lost = 0): void {
  appendRecord(inject('hardeningSummaryDir'), { category, name, checked, lost });
}

/**
 * Every non-directory of the original upper must exist byte-identical (type, mode, owner, content,
 * overlay xattrs) in the upper (at its path or moved aside as .rpmsave/.dpkg-old) or in a backup set.
 * Records the case in the summary and fails the test on any loss.
 */
export function assertNothingLost(category: Category, name: string, layout: Layout, original: Map<string, string>): void {
  const upper = snapshot(layout.upper);
  const sets = backupSnapshots(layout);
  const lost: string[] = [];
  let checked = 0;
  for (const [p, d] of original) {
    if (d.startsWith('dir ')) continue;
    checked++;
    const found = upper.get(p) === d || upper.get(`${p}.rpmsave`) === d || upper.get(`${p}.dpkg-old`) === d || sets.some((b) => b.get(p) === d);
    if (!found) lost.push(JSON.stringify(p));
  }
  recordCase(category, name, checked, lost.length);
  expect(lost, `${name}: entries neither in the upper nor in backups`).toEqual([]);
}

/** The upper of an overlay as a snapshot (to take before a case). */
export const snapshotUpper = (layout: Layout): Map<string, string> => snapshot(layout.upper);

/** path → "type mode owner digest" of a tree outside the overlay, to prove it did not change. */
export const snapshotTree = (dir: string): Map<string, string> => snapshot(dir);
