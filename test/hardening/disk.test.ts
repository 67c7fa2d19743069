// Disk faults: backups on another filesystem (EXDEV: copy, verify, then remove), that filesystem full in the
// middle of the moves, and a full state filesystem (sidecars, journal): each leaves a resumable journal or
// nothing at all, never a half state, and converges once space is freed.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { readIndex } from '../../src/backups/index-file.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import type { Layout } from '../../src/paths/layout.js';
import { snapshot } from '../ops/scratch.js';
import { buildCase, tree, type CaseSpec, type Tree } from './cases.js';
import { assertNothingLost, mountTmpfs, scratchTop } from './harness.js';

const scratch = scratchTop('so-disk-');
const fresh = () => scratch.next();

const reconcile = (s: Awaited<ReturnType<typeof buildCase>>['s']) => reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });

/** Fills the filesystem holding dir until ENOSPC; returns the filler file. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** Every set's index names entries that are in its tree: no set claims what it does not hold. */
function assertSetsConsistent(layout: Layout): void {
  if (!fs.existsSync(layout.backupsDir)) return;
  for (const set of fs.readdirSync(layout.backupsDir).filter((f) => f !== 'filler' && f !== 'lost+found')) {
    const held = snapshot(path.join(layout.backupsDir, set, 'upper'));
    const index = readIndex(path.join(layout.backupsDir, set, 'index.json'));
    for (const e of index.entries) expect(held.has(e.path), `${set}: index entry ${e.display} not in the set`).toBe(true);
    expect([...held.keys()].filter((p) => p.includes('.state-overlay-copy'))).toEqual([]);
  }
}

const big = (tag: string) => `${tag}\n`.repeat(30_000); // ~300 KB

const KINDS: CaseSpec = {
  name: 'EXDEV: every kind copied across, verified, removed',
  v1: tree({ 'bin/f': 'f v1\n', 'bin/l': 'l v1\n', 'bin/fifo': 'v1\n', 'bin/wh': 'v1\n', 'bin/whx': 'v1\n', 'opq/x': 'x v1\n', 'turned/a': 'a v1\n', 'big/b0': 'b v1\n' }),
  upper: async (u) => {
    await tree({
      'bin/f': { file: 'f edited\n', mode: 0o640, uid: 12, gid: 34 },
      'bin/l': { link: '/etc/passwd' },
      'bin/fifo': { fifo: true },
      'bin/wh': { whiteout: 'chardev' },
      'bin/whx': { whiteout: 'xattr' },
      opq: { dir: true, opaque: true },
      'opq/mine': 'mine\n',
      'opq/sub/deeper': 'deeper\n',
      'turned/a': 'a edited\n',
      'turned/state': 'state below a dir the base turned into a file\n',
      'big/b0': big('b0 edited'),
    })(u);
  },
  v2: async (b) => {
    await tree({ 'bin/f': 'f v2\n', 'bin/l': 'l v2\n', 'bin/fifo': 'v2\n', 'bin/wh': 'v2\n', 'bin/whx': 'v2\n', 'opq/x': 'x v2\n', 'big/b0': 'b v2\n' })(b);
    fs.rmSync(path.join(b, 'turned'), { recursive: true });
    fs.writeFileSync(path.join(b, 'turned'), 'now a file\n');
  },
};

describe('disk faults', () => {
  it('backups on another filesystem (EXDEV): every kind copied, verified and removed from the upper', async () => {
    const root = fresh();
    const { s, original } = await buildCase(root, KINDS);
    await mountTmpfs(s.ov.layout.backupsDir, 'mode=0700,size=64m');
    const report = await reconcile(s);
    expect(report.dropped).toBe(8);
    expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
    assertNothingLost('disk faults', KINDS.name, s.ov.layout, original);
    assertSetsConsistent(s.ov.layout);
    for (const p of ['bin/f', 'bin/l', 'opq', 'turned']) expect(fs.existsSync(path.join(s.ov.layout.upper, p))).toBe(false);
  });

  it('the backups filesystem fills up during cross-filesystem moves: a resumable journal, then convergence', async () => {
    const root = fresh();
    const files: Tree = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`big/b${i}`, `b${i} v1\n`]));
    const c: CaseSpec = {
      name: 'ENOSPC in the backups filesystem (EXDEV copies)',
      v1: tree(files),
      upper: tree(Object.fromEntries(Object.keys(files).map((p) => [p, big(`${p} edited`)]))),
      v2: tree(Object.fromEntries(Object.keys(files).map((p) => [p, `${p} v2\n`]))),
    };
    const { s, original } = await buildCase(root, c);
    const { layout } = s.ov;
    await mountTmpfs(layout.backupsDir, 'mode=0700,size=1m');
    await expect(reconcile(s)).rejects.toThrow(/^cannot copy .*: ENOSPC; left in place$/);
    expect(fs.existsSync(layout.journal)).toBe(true);
    assertNothingLost('disk faults', `${c.name}: stopped`, layout, original);
    // A second try on the still-full filesystem fails the same way and loses nothing either.
    await expect(reconcile(s)).rejects.toThrow(/^cannot copy .*: ENOSPC; left in place$/);
    assertNothingLost('disk faults', `${c.name}: retried while full`, layout, original);
    await run('mount', ['-o', 'remount,size=64m', layout.backupsDir]);
    const done = await reconcile(s);
    expect(done.resumed).toBe(true);
    expect(fs.existsSync(layout.journal)).toBe(false);
    expect(fs.existsSync(path.join(layout.upper, 'big'))).toBe(false);
    assertNothingLost('disk faults', c.name, layout, original);
    assertSetsConsistent(layout);
  });

  it('the state filesystem fills up while sidecars are written: a resumable journal, then convergence', async () => {
    const root = fresh();
    const names = Array.from({ length: 8 }, (_, i) => `etc/c${i}.conf`);
    const c: CaseSpec = {
      name: 'ENOSPC in the state filesystem (sidecars)',
      config: { paths: { config: ['/opt/etc/**'] } } as never,
      v1: tree(Object.fromEntries(names.map((p) => [p, `${p} v1\n`]))),
      upper: tree(Object.fromEntries(names.map((p) => [p, `${p} edited\n`]))),
      v2: tree(Object.fromEntries(names.map((p) => [p, big(`${p} v2`)]))),
    };
    // The state dir (upper included) on a 1 MiB tmpfs; the base on the big filesystem.
    const varDir = path.join(root, 'var');
    await mountTmpfs(varDir, 'mode=0755,size=1m');
    const { s, original } = await buildCase(root, c);
    const { layout } = s.ov;
    await expect(reconcile(s)).rejects.toThrow(`: ENOSPC`);
    expect(fs.existsSync(layout.journal)).toBe(true);
    assertNothingLost('disk faults', `${c.name}: stopped`, layout, original);
    await run('mount', ['-o', 'remount,size=16m', varDir]);
    const done = await reconcile(s);
    expect(done.resumed).toBe(true);
    for (const p of names) expect(fs.readFileSync(path.join(layout.upper, `${p}.rpmnew`), 'utf8')).toBe(big(`${p} v2`));
    expect(fs.readdirSync(path.join(layout.upper, 'etc')).filter((f) => f.includes('state-overlay'))).toEqual([]);
    assertNothingLost('disk faults', c.name, layout, original);
  });

  it('a state filesystem already full: the reconcile fails before any change, leaves no phantom set, then converges', async () => {
    const root = fresh();
    const c: CaseSpec = {
      name: 'state filesystem full before the journal',
      v1: tree({ 'bin/a': 'a v1\n', 'bin/b': 'b v1\n' }),
      upper: tree({ 'bin/a': 'a edited\n', 'bin/b': 'b edited\n', 'data/db': 'state\n' }),
      v2: tree({ 'bin/a': 'a v2\n', 'bin/b': 'b v2\n' }),
    };
    const varDir = path.join(root, 'var');
    await mountTmpfs(varDir, 'mode=0755,size=1m');
    const { s, original } = await buildCase(root, c);
    const { layout } = s.ov;
    const filler = fill(varDir);
    await expect(reconcile(s)).rejects.toThrow(': ENOSPC');
    expect(fs.existsSync(layout.journal)).toBe(false);
    expect(snapshot(layout.upper)).toEqual(original);
    assertSetsConsistent(layout);
    fs.rmSync(filler);
    const done = await reconcile(s);
    expect(done.dropped).toBe(2);
    assertNothingLost('disk faults', c.name, layout, original);
    assertSetsConsistent(layout);
    expect(fs.readdirSync(layout.backupsDir)).toHaveLength(1);
  });
});
