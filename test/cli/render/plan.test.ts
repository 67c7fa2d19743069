import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reconcileJson, vacuumJson } from '../../../src/cli/render/plan.js';
import type { ReconcileReport } from '../../../src/ops/reconcile.js';
import { fromBytes } from '../../../src/model/entry.js';
import type { Plan } from '../../../src/plan/types.js';
import { rel } from '../../model/rel.js';
import { INVALID_UTF8 } from '../../tree/fixtures.js';
import { check } from './schema-check.js';

const schema = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../../docs/cli.schema.json'), 'utf8')) as Record<string, unknown> & {
  $defs: Record<string, Record<string, unknown>>;
};
const b64 = (p: string) => Buffer.from(p, 'latin1').toString('base64');
const odd = fromBytes(INVALID_UTF8);

const plan: Plan = {
  actions: [
    { kind: 'move-to-backups', path: rel('a'), rule: 3, reason: 'r3', entry: { kind: 'shadow', type: 'file' } },
    { kind: 'rename', path: rel('etc/c'), to: rel('etc/c.rpmsave'), rule: 4, reason: 'r4' },
    { kind: 'write-sidecar', path: rel(`${odd}.rpmnew`), from: odd, type: 'file', digest: '0'.repeat(64), mode: 0o644, uid: 0, gid: 0, rule: 3, reason: 'r3' },
    { kind: 'set-attrs', path: rel('d'), mode: 0o755, uid: 1, gid: 2, rule: 9, reason: 'r9' },
    { kind: 'remove-empty-dir', path: rel('d'), rule: 8, reason: 'r8' },
    { kind: 'keep', path: odd, sidecar: rel(`${odd}.rpmnew`), rule: 3, reason: 'r3' },
    { kind: 'keep', path: rel('k'), rule: 2, reason: 'r2' },
  ],
  conflicts: [{ path: rel('x'), rule: 5, reason: 'r5' }],
};
const summary = { at: '2026-01-01T00:00:00.000Z', from: 'g1', to: 'g2', mode: 'changed', actions: 5, dropped: 1, renamed: 1, sidecars: 1, merged: 0, attrs: 1, removedDirs: 1, restored: 0, kept: 2, conflicts: 1, backupSet: null, ms: 3 } as const;
const report: ReconcileReport = { ...summary, plan, upToDate: false, dryRun: true, resumed: false };

describe('plan documents', () => {
  it('write every action kind with each of its paths as text and bytes, valid against the schema', () => {
    const doc = reconcileJson('opt', report);
    expect(check(schema, doc, schema.$defs.ReconcileReport)).toEqual([]);
    expect(doc.actions).toEqual([
      { kind: 'move-to-backups', path: 'a', pathBase64: b64('a'), rule: 3, reason: 'r3' },
      { kind: 'rename', path: 'etc/c', pathBase64: b64('etc/c'), rule: 4, reason: 'r4', to: 'etc/c.rpmsave', toBase64: b64('etc/c.rpmsave') },
      { kind: 'write-sidecar', path: 'b\\xff\\xfe\\x80.c.rpmnew', pathBase64: b64(`${odd}.rpmnew`), rule: 3, reason: 'r3', from: 'b\\xff\\xfe\\x80.c', fromBase64: b64(odd) },
      { kind: 'set-attrs', path: 'd', pathBase64: b64('d'), rule: 9, reason: 'r9', mode: 0o755, uid: 1, gid: 2 },
      { kind: 'remove-empty-dir', path: 'd', pathBase64: b64('d'), rule: 8, reason: 'r8' },
      { kind: 'keep', path: 'b\\xff\\xfe\\x80.c', pathBase64: b64(odd), rule: 3, reason: 'r3', sidecar: 'b\\xff\\xfe\\x80.c.rpmnew', sidecarBase64: b64(`${odd}.rpmnew`) },
      { kind: 'keep', path: 'k', pathBase64: b64('k'), rule: 2, reason: 'r2' },
    ]);
    expect(doc.conflicts).toEqual([{ path: 'x', pathBase64: b64('x'), rule: 5, reason: 'r5' }]);
  });

  it('keep the summary beside the lists, under the envelope', () => {
    const doc = reconcileJson('opt', report);
    expect(Object.keys(doc).slice(0, 3)).toEqual(['apiVersion', 'kind', 'name']);
    expect(doc).toMatchObject({ kind: 'ReconcileReport', name: 'opt', dropped: 1, upToDate: false, dryRun: true, resumed: false });
    const { upToDate: _u, resumed: _r, ...vacuum } = report;
    const v = vacuumJson('opt', vacuum);
    expect(check(schema, v, schema.$defs.VacuumReport)).toEqual([]);
    expect(v.kind).toBe('VacuumReport');
  });
});
