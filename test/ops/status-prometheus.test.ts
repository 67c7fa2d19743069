// `state-overlay status --format prometheus` on a scratch host: a reconcile's counts and backups as
// Prometheus text, written atomically with --output, accepted by promtool; --json with it refused.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../cli/cli.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, writeTree } from './scratch.js';

let root: string;
beforeEach(() => {
  root = scratch('so-metrics-');
});
afterEach(async () => {
  await removeTree(root);
});

async function reconciled() {
  const s = scratchOverlay(root);
  await writeTree(s.ov.base, { 'bin/tool': 'v1\n', 'lib/same': 'same\n' });
  await s.record('gen1');
  await writeTree(s.ov.layout.upper, { 'bin/tool': 'mine!\n', 'data/x': 'state\n' });
  fs.writeFileSync(path.join(s.ov.base, 'bin/tool'), 'v2\n');
  const r = cli(['--root', root, '-q', 'reconcile', 'opt']);
  expect(r.code, r.stderr).toBe(0);
  return s;
}

describe('status --format prometheus', () => {
  it('reports the upper, the backups and the last reconcile', async () => {
    await reconciled();
    const r = cli(['--root', root, 'status', '--format', 'prometheus']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    for (const l of [
      'state_overlay_mounted{name="opt"} 0',
      'state_overlay_upper_entries{name="opt",kind="state"} 2',
      'state_overlay_upper_bytes{name="opt",kind="state"} 6',
      'state_overlay_backup_sets{name="opt"} 1',
      'state_overlay_last_reconcile_entries{name="opt",action="dropped"} 1',
      'state_overlay_last_reconcile_result{name="opt",result="ok"} 1',
      'state_overlay_pending{name="opt",work="reconcile"} 0',
    ]) {
      expect(lines).toContain(l);
    }
    // the moved file (6 bytes) and the set's index
    const backupBytes = Number(/^state_overlay_backup_bytes\{name="opt"\} (\d+)$/m.exec(r.stdout)?.[1]);
    expect(backupBytes).toBeGreaterThan(6);
    const check = await execa('promtool', ['check', 'metrics'], { input: r.stdout, reject: false });
    expect({ exitCode: check.exitCode, out: check.stdout + check.stderr }).toEqual({ exitCode: 0, out: '' });
  });

  it('--output writes the file atomically, readable by node_exporter, and prints nothing', async () => {
    await reconciled();
    const dir = path.join(root, 'textfile');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'state-overlay.prom');
    fs.writeFileSync(file, 'old\n');
    const before = fs.statSync(file).ino;
    const r = cli(['--root', root, 'status', 'opt', '--format=prometheus', '--output', file]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(fs.statSync(file).ino).not.toBe(before);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    expect(fs.readFileSync(file, 'utf8')).toContain('state_overlay_backup_sets{name="opt"} 1\n');
    expect(fs.readdirSync(dir)).toEqual(['state-overlay.prom']);
  });

  it('--format xml is a usage error', () => {
    const r = cli(['--root', root, 'status', '--format', 'xml']);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toContain('--format xml: expected human or prometheus');
  });

  it('--json with --format prometheus is a usage error (an Error document)', () => {
    const r = cli(['--root', root, '--json', 'status', '--format', 'prometheus']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'Error', code: 'usage', message: '--format prometheus and --json: choose one' });
  });

  it('--output writes the human view too', async () => {
    await reconciled();
    const file = path.join(root, 'status.txt');
    const r = cli(['--root', root, 'status', '--output', file]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '' });
    expect(fs.readFileSync(file, 'utf8')).toBe(cli(['--root', root, 'status']).stdout);
  });
});
