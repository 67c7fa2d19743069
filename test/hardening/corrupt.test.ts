// Corrupt or truncated state.json, manifest, journal and backup index, and two runs at once: a clear error
// naming the file (never a silent prune), UnknownBase= where the manifest is what is missing, exit code 75
// with the holder named for a held lock. Driven through the CLI, as an operator meets them.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLog } from '../../src/log/logger.js';
import { FAULT_ENV } from '../../src/txn/fault.js';
import { progressFile } from '../../src/txn/journal.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { acquireLock } from '../../src/state/lock.js';
import { readState, stateManifestFile } from '../../src/state/state-file.js';
import type { Scratch } from '../ops/scratch.js';
import { snapshot } from '../ops/scratch.js';
import { buildCliCase, smallCase } from './cases.js';
import { assertNothingLost, cli, recordCase, scratchTop } from './harness.js';

const scratch = scratchTop('so-corrupt-', 'mode=0755,size=256m');
afterAll(() => {
  delete process.env[FAULT_ENV];
});
const CASE = smallCase('corrupt', 10);
const fresh = (conf = '') => buildCliCase(scratch.next(), CASE, conf);

interface Corruption {
  readonly name: string;
  readonly corrupt: (s: Scratch) => string;
  /** The first stderr line, given the corrupted file. */
  readonly message: (file: string) => string;
}

const cut = (file: string) => fs.writeFileSync(file, fs.readFileSync(file).subarray(0, Math.floor(fs.statSync(file).size / 2)));
const stateFile = (s: Scratch) => s.ov.layout.stateFile;
const manifestOf = (s: Scratch) => stateManifestFile(s.ov.layout, readState(s.ov.layout))!;

const CORRUPTIONS: Corruption[] = [
  { name: 'state.json: garbage', corrupt: (s) => (fs.writeFileSync(stateFile(s), 'garbage\n'), stateFile(s)), message: (f) => `state-overlay: ${f}: not JSON: Unexpected token 'g', "garbage\n" is not valid JSON` },
  { name: 'state.json: empty', corrupt: (s) => (fs.writeFileSync(stateFile(s), ''), stateFile(s)), message: (f) => `state-overlay: ${f}: not JSON: Unexpected end of JSON input` },
  { name: 'state.json: truncated', corrupt: (s) => (cut(stateFile(s)), stateFile(s)), message: (f) => `state-overlay: ${f}: not JSON: ` },
  { name: 'state.json: another schema', corrupt: (s) => (fs.writeFileSync(stateFile(s), '{"schemaVersion":7}\n'), stateFile(s)), message: (f) => `state-overlay: ${f}: schemaVersion 7: expected 1` },
  { name: 'state.json: manifest path escapes', corrupt: (s) => (fs.writeFileSync(stateFile(s), '{"schemaVersion":1,"generation":"gen1","manifest":"../../../etc/passwd","lastReconcile":null}\n'), stateFile(s)), message: (f) => `state-overlay: ${f}: manifest: expected a file name or null` },
  { name: 'manifest: truncated', corrupt: (s) => (cut(manifestOf(s)), manifestOf(s)), message: (f) => `state-overlay: ${f}: ` },
  { name: 'manifest: garbage', corrupt: (s) => (fs.writeFileSync(manifestOf(s), 'garbage'.repeat(100)), manifestOf(s)), message: (f) => `state-overlay: ${f}: not a state-overlay manifest` },
  { name: 'manifest: empty', corrupt: (s) => (fs.writeFileSync(manifestOf(s), ''), manifestOf(s)), message: (f) => `state-overlay: ${f}: not a state-overlay manifest` },
];

describe('corrupt state files', () => {
  it.each(CORRUPTIONS)('$name: a clear error naming the file, the upper untouched', async (c) => {
    const { s, original, root } = await fresh();
    const file = c.corrupt(s);
    for (const args of [['reconcile', 'opt'], ['run', 'opt']]) {
      const r = await cli(root, args);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toContain(c.message(file));
      expect(snapshot(s.ov.layout.upper)).toEqual(original);
      expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
    }
    assertNothingLost('corrupt state', c.name, s.ov.layout, original);
  });

  it.each([
    ['prune', 10],
    ['keep', 0],
  ] as const)('the recorded manifest missing: UnknownBase=%s applies (%i dropped)', async (policy, dropped) => {
    const { s, original, root } = await fresh(`[Overlay]\nUnknownBase=${policy}\n`);
    fs.rmSync(manifestOf(s));
    const r = await cli(root, ['--json', 'reconcile', 'opt']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { dropped: number; actions: Array<{ kind: string; rule: number }> };
    expect(out.dropped).toBe(dropped);
    expect(out.actions.filter((a) => a.kind === 'move-to-backups').every((a) => a.rule === 10)).toBe(true);
    expect(fs.readFileSync(path.join(s.ov.layout.upper, 'data/db'), 'utf8')).toBe('state\n');
    assertNothingLost('corrupt state', `manifest missing, UnknownBase=${policy}`, s.ov.layout, original);
  });

  it.each([
    ['garbage', (f: string) => fs.writeFileSync(f, 'garbage'), (f: string) => `state-overlay: ${f}: not JSON: `],
    ['truncated', cut, (f: string) => `state-overlay: ${f}: not JSON: `],
    ['another version', (f: string) => fs.writeFileSync(f, '{"version":9}'), (f: string) => `state-overlay: ${f}: not a version 1 reconcile journal`],
  ] as const)('journal %s: a clear error naming it, nothing changed, the journal kept for inspection', async (name, corrupt, message) => {
    const { s, original, root } = await fresh();
    process.env[FAULT_ENV] = '3';
    await expect(reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } })).rejects.toThrow('test-only fault point');
    delete process.env[FAULT_ENV];
    corrupt(s.ov.layout.journal);
    const upper = snapshot(s.ov.layout.upper);
    for (const args of [['reconcile', 'opt'], ['run', 'opt'], ['reconcile', '--dry-run', 'opt']]) {
      const r = await cli(root, args);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr.split('\n')[0]).toContain(message(s.ov.layout.journal));
      expect(snapshot(s.ov.layout.upper)).toEqual(upper);
    }
    expect(fs.existsSync(s.ov.layout.journal)).toBe(true);
    assertNothingLost('corrupt state', `journal ${name}`, s.ov.layout, original);
  });

  it('a garbled progress file counts as nothing done: the idempotent actions run again and converge', async () => {
    const { s, original, root } = await fresh();
    process.env[FAULT_ENV] = '4';
    await expect(reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } })).rejects.toThrow('test-only fault point');
    delete process.env[FAULT_ENV];
    fs.writeFileSync(progressFile(s.ov.layout), '1\n2\nx\x00\xff3');
    const r = await cli(root, ['reconcile', 'opt']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
    assertNothingLost('corrupt state', 'garbled progress file', s.ov.layout, original);
  });

  it("an old backup set's corrupt index does not fail a reconcile, and `backups` names it", async () => {
    const { s, original, root } = await fresh();
    const old = path.join(s.ov.layout.backupsDir, '20200101T000000000Z-gen0');
    fs.mkdirSync(path.join(old, 'upper/bin'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(old, 'upper/bin/f0'), 'an older edit\n');
    fs.writeFileSync(path.join(old, 'index.json'), '{"version":1,"entries":[{"path":');
    const r = await cli(root, ['reconcile', 'opt']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    assertNothingLost('corrupt state', 'corrupt index of an old backup set', s.ov.layout, original);
    const b = await cli(root, ['backups', 'opt']);
    expect(b.exitCode).toBe(1);
    expect(b.stderr.split('\n')[0]).toContain(`${path.join(old, 'index.json')}: not JSON: `);
  });
});

describe('two runs at once', () => {
  it('a held lock: reconcile and mount fail with exit code 75 naming the lock and its holder; run waits for it', async () => {
    const { s, original, root } = await fresh();
    fs.mkdirSync(s.ov.layout.stateDir, { recursive: true });
    const lock = await acquireLock(s.ov.layout.lockFile, { what: 'test' });
    let released = false;
    try {
      for (const args of [['reconcile', 'opt'], ['mount', 'opt']]) {
        const r = await cli(root, args);
        expect(r.exitCode).toBe(75);
        expect(r.stderr).toBe(`state-overlay: overlay opt: lock ${s.ov.layout.lockFile} is held by pid ${process.pid}`);
      }
      expect(snapshot(s.ov.layout.upper)).toEqual(original);
      // The service entry waits (up to a minute) instead: it proceeds once the holder lets go.
      const waiting = cli(root, ['run', 'opt']);
      await new Promise((r) => setTimeout(r, 1500));
      expect(fs.existsSync(s.ov.layout.backupsDir)).toBe(false);
      await lock.release();
      released = true;
      const r = await waiting;
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(root, 'opt/bin/f1'), 'utf8')).toBe('f1 v2\n');
    } finally {
      if (!released) await lock.release();
      await cli(root, ['unmount', 'opt']);
    }
    assertNothingLost('concurrency', 'held lock', s.ov.layout, original);
  });

  it('two reconciles started together: one does the work, the other waits and finds it done', async () => {
    const { s, original, root } = await fresh();
    const [a, b] = await Promise.all([cli(root, ['--json', 'reconcile', 'opt']), cli(root, ['--json', 'reconcile', 'opt'])]);
    for (const r of [a, b]) {
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    }
    const outs = [a, b].map((r) => JSON.parse(r.stdout) as { upToDate: boolean; dropped: number });
    expect(outs.map((o) => o.upToDate).sort()).toEqual([false, true]);
    expect(outs.find((o) => !o.upToDate)?.dropped).toBe(10);
    expect(fs.readdirSync(s.ov.layout.backupsDir)).toHaveLength(1);
    assertNothingLost('concurrency', 'two reconciles at once', s.ov.layout, original);
  });

  it('run and reconcile started together: the overlay ends mounted and reconciled once', async () => {
    const { s, original, root } = await fresh();
    try {
      const [a, b] = await Promise.all([cli(root, ['run', 'opt']), cli(root, ['reconcile', 'opt'])]);
      expect(a.stderr).toBe('');
      expect(a.exitCode).toBe(0);
      // The reconcile either ran first, found it done, or found the overlay mounted (exit 75).
      expect([0, 3], b.stderr).toContain(b.exitCode);
      if (b.exitCode === 3) expect(b.stderr).toMatch(/^state-overlay: overlay opt is mounted on /);
      expect(fs.readFileSync(path.join(root, 'opt/bin/f1'), 'utf8')).toBe('f1 v2\n');
      expect(fs.readdirSync(s.ov.layout.backupsDir)).toHaveLength(1);
    } finally {
      await cli(root, ['unmount', 'opt']);
    }
    assertNothingLost('concurrency', 'run and reconcile at once', s.ov.layout, original);
    recordCase('concurrency', 'run and reconcile at once: mounted once');
  });
});
