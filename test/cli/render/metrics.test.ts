// Prometheus text for node_exporter's textfile collector: exact lines for two overlays (pure), and
// Prometheus' own parser (promtool check metrics) accepts them.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { labelValue, metricsText } from '../../../src/cli/render/metrics.js';
import type { Metrics } from '../../../src/ops/metrics.js';
import { fresh, mounted } from '../../ops/status-fixtures.js';

const metrics: Metrics = {
  status: {
    apiVersion: 'state-overlay/v1',
    overlays: [mounted, { ...fresh, name: 'opt-my\\x2dapp' }],
    failed: [{ name: 'srv', code: 'config', error: '/etc/state-overlay/srv.conf:1: Foo=1: unknown key' }],
  },
  backupBytes: new Map([['opt', 12_345]]),
  backupUnreadable: new Map(),
};
const text = metricsText(metrics);
const lines = text.split('\n');

describe('metricsText', () => {
  it.each([
    'state_overlay_info{name="opt",mountpoint="/opt",mode="persistent",reconcile="changed"} 1',
    'state_overlay_mounted{name="opt"} 1',
    'state_overlay_mounted{name="opt-my\\\\x2dapp"} 0',
    'state_overlay_upper_entries{name="opt",kind="state"} 12',
    'state_overlay_upper_entries{name="opt",kind="whiteout"} 2',
    'state_overlay_upper_bytes{name="opt",kind="shadow"} 400000',
    'state_overlay_backup_sets{name="opt"} 1',
    'state_overlay_backup_bytes{name="opt"} 12345',
    'state_overlay_backup_bytes{name="opt-my\\\\x2dapp"} 0',
    'state_overlay_pending{name="opt",work="reconcile"} 0',
    'state_overlay_last_reconcile_result{name="opt",result="ok"} 1',
    'state_overlay_last_reconcile_timestamp_seconds{name="opt"} 1795158723',
    'state_overlay_last_reconcile_duration_seconds{name="opt"} 0.041',
    'state_overlay_last_reconcile_entries{name="opt",action="dropped"} 3',
    'state_overlay_last_reconcile_entries{name="opt",action="kept"} 2',
    'state_overlay_last_reconcile_entries{name="opt",action="sidecars"} 1',
    'state_overlay_read_failed{name="srv",code="config"} 1',
  ])('has %s', (line) => expect(lines).toContain(line));

  it('marks the pending work and result of an overlay never reconciled', () => {
    for (const w of fresh.pending) expect(lines).toContain(`state_overlay_pending{name="opt-my\\\\x2dapp",work="${w}"} 1`);
    const r = fresh.pending.includes('journal') ? 'interrupted' : 'never';
    expect(lines).toContain(`state_overlay_last_reconcile_result{name="opt-my\\\\x2dapp",result="${r}"} 1`);
  });

  it('gives every family one HELP and one TYPE line, before its samples', () => {
    const families = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
    expect(new Set(families).size).toBe(families.length);
    for (const f of families) {
      const at = lines.indexOf(`# TYPE ${f} gauge`);
      expect(lines[at - 1]).toMatch(new RegExp(`^# HELP ${f} \\S`));
      const samples = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith(`${f}{`));
      expect(samples.length).toBeGreaterThan(0);
      for (const [, i] of samples) expect(i).toBeGreaterThan(at);
    }
  });

  it.each([
    ['opt', 'opt'],
    ['opt-my\\x2dapp', 'opt-my\\\\x2dapp'],
    ['a"b\nc', 'a\\"b\\nc'],
  ])('escapes the label value %j', (v, out) => expect(labelValue(v)).toBe(out));

  it("passes Prometheus' own parser and linter (promtool check metrics)", async () => {
    const r = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    expect({ exitCode: r.exitCode, out: r.stdout + r.stderr }).toEqual({ exitCode: 0, out: '' });
  });

  it('the promtool check is live: a malformed line fails', async () => {
    const r = await execa('promtool', ['check', 'metrics'], { input: `${text}state_overlay_mounted{name="x} 1\n`, reject: false });
    expect(r.exitCode).not.toBe(0);
  });
});
