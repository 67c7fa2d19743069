// status on a real mounted overlay: counts by kind, bytes, generations, pending work; JSON valid against the schema.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountOverlay } from '../../src/mount/overlay.js';
import { collectStatus } from '../../src/ops/status.js';
import { knownOverlays } from '../../src/overlay/list.js';
import { STATUS_API_VERSION } from '../../src/ops/status-model.js';
import { writeState, emptyState } from '../../src/state/state-file.js';
import { cli, makeScratch, type Scratch } from '../mount/scratch.js';
import { fresh, mounted } from './status-fixtures.js';
import { check } from '../cli/render/schema-check.js';

const schema = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/status.schema.json'), 'utf8')) as Record<string, unknown>;

let s: Scratch;
beforeEach(() => {
  s = makeScratch({ 'opt/app/bin/tool': 'v1\n', 'opt/app/etc/app.conf': 'a=1\n', 'opt/app/lib/libx.so': 'lib\n' });
});
afterEach(async () => {
  await s.cleanup();
});

/** One upper entry of every kind, made through the mounted overlay as a user would. */
function populate(target: string): void {
  fs.writeFileSync(path.join(target, 'state.db'), 'x'); // state
  fs.writeFileSync(path.join(target, 'app/bin/tool'), 'edited\n'); // shadow, under merged app/ and app/bin/
  fs.rmSync(path.join(target, 'app/etc/app.conf')); // whiteout, under merged app/etc/
  fs.rmSync(path.join(target, 'app/lib'), { recursive: true });
  fs.mkdirSync(path.join(target, 'app/lib')); // opaque dir
  fs.writeFileSync(path.join(target, 'app/lib/new'), 'n'); // state below an opaque dir
}

describe('status', () => {
  it('counts upper entries by kind and reports pending work', async () => {
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    populate(ov.layout.target);
    const st = await collectStatus(ov);
    expect(st.mount).toEqual({ state: 'mounted', baseBind: true, submounts: [], detached: null, upperdir: ov.layout.upper, workdir: ov.layout.work });
    expect(st.upper).toEqual({ exists: true, counts: { state: 2, shadow: 1, 'merged-dir': 3, 'opaque-dir': 1, whiteout: 1, foreign: 0 }, bytes: 9, bytesByKind: { state: 2, shadow: 7, 'merged-dir': 0, 'opaque-dir': 0, whiteout: 0, foreign: 0 }, unreadable: 0 });
    expect(st.generation).toMatchObject({ recorded: null, source: 'tree', error: null, manifest: null });
    expect(st.generation.current).toMatch(/^tree:[0-9a-f]{64}$/);
    expect(st.pending).toEqual(['reconcile']);
    expect(st.lastReconcile).toBeNull();

    writeState(ov.layout, { ...emptyState(), generation: st.generation.current });
    const after = await collectStatus(ov);
    // recorded, but no manifest kept for it: the next reconcile would fall under rule 10
    expect(after.pending).toEqual(['manifest']);
    // Under Reconcile=none no reconcile ever reads one: nothing is owed.
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nReconcile=none\n');
    expect((await collectStatus(s.ctx().overlay('opt'))).pending).toEqual([]);
  });

  it('prints JSON that the published schema accepts, for every known overlay', async () => {
    s.write('etc/state-overlay/usr-local.conf', '[Overlay]\nMode=ephemeral\n');
    fs.mkdirSync(path.join(s.root, 'usr/local'), { recursive: true });
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    populate(ov.layout.target);
    const r = await cli(s.root, ['--json', 'status']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { apiVersion: string; overlays: { name: string; mount: { state: string } }[] };
    expect(check(schema, out)).toEqual([]);
    expect(out.apiVersion).toBe(STATUS_API_VERSION);
    expect(out.overlays.map((o) => [o.name, o.mount.state])).toEqual([
      ['opt', 'mounted'],
      ['usr-local', 'unmounted'],
    ]);
  });

  it('prints the human view', async () => {
    const ov = s.ctx().overlay('opt');
    await mountOverlay(ov, s.log);
    populate(ov.layout.target);
    const r = await cli(s.root, ['status', 'opt']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`opt: mounted on ${ov.layout.target} [persistent, reconcile=changed]`);
    expect(lines).toContain('  entries:        2 state, 1 shadow, 3 merged dirs, 1 opaque dir, 1 whiteout, 0 foreign');
    expect(lines).toContain('  upper size:     9 B');
  });

  it('the schema checker is live: it rejects what the schema forbids', () => {
    const good = { apiVersion: STATUS_API_VERSION, kind: 'Status', overlays: [mounted, fresh], failed: [] };
    expect(check(schema, good)).toEqual([]);
    const bad = { apiVersion: 'v0', kind: 'Status', failed: [], overlays: [{ ...mounted, extra: 1, mount: { ...mounted.mount, state: 'maybe' }, pending: ['later'] }] };
    expect(check(schema, bad)).toEqual([
      '$.apiVersion: expected "state-overlay/v1"',
      '$.overlays[0].mount.state: "maybe" not in ["mounted","unmounted","foreign"]',
      '$.overlays[0].pending[0]: "later" not in ["journal","reconcile","manifest","foreign-entries","classes"]',
      '$.overlays[0]: unexpected extra',
    ]);
  });

  it('fails naming a path it cannot read, rather than reporting it absent', async () => {
    const ov = s.ctx().overlay('opt');
    fs.mkdirSync(ov.layout.stateDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(ov.layout.backupsDir, '');
    await expect(collectStatus(ov)).rejects.toThrow(`cannot list ${ov.layout.backupsDir}: ENOTDIR`);
    fs.rmSync(ov.layout.backupsDir);
    writeState(ov.layout, { ...emptyState(), generation: 'tree:recorded', manifest: 'recorded.manifest' });
    fs.symlinkSync(path.basename(ov.layout.manifestsDir), ov.layout.manifestsDir); // a loop: ELOOP, not ENOENT
    await expect(collectStatus(ov)).rejects.toThrow(`lstat ${ov.layout.manifestsDir}/recorded.manifest: ELOOP`);
  });

  it('lists overlays from state dirs, run dirs and configuration, ignoring stray names', () => {
    fs.mkdirSync(path.join(s.root, 'var/lib/state-overlay/opt'), { recursive: true });
    fs.mkdirSync(path.join(s.root, 'run/state-overlay/srv'), { recursive: true });
    s.write('etc/state-overlay/usr-local.conf', '');
    s.write('usr/lib/state-overlay/opt-my\\x2dapp.conf.d/10.conf', '');
    s.write('usr/lib/state-overlay/opt.manifest', '');
    fs.mkdirSync(path.join(s.root, 'var/lib/state-overlay/not a name'), { recursive: true });
    expect(knownOverlays(s.root)).toEqual(['opt', 'opt-my\\x2dapp', 'srv', 'usr-local']);
  });
});

describe('status of every overlay', () => {
  let t: Scratch;
  beforeEach(() => {
    t = makeScratch({ 'opt/app/tool': 'v1\n', 'srv/data/x': 'x\n', 'usr/local/bin/y': 'y\n' });
  });
  afterEach(() => t.cleanup());

  it('shows the overlays it can read when one configuration is invalid and one state.json damaged, and exits with the first failure', async () => {
    t.write('etc/state-overlay/opt.conf', '[Paths]\nKeep=/opt/**\n');
    t.write('etc/state-overlay/srv.conf', '[Overlay]\nReconcile=sometimes\n');
    t.write('etc/state-overlay/usr-local.conf', '');
    t.write('var/lib/state-overlay/usr-local/state.json', '{');
    const human = await cli(t.root, ['status']);
    expect(human.exitCode).toBe(6);
    expect(human.stdout).toMatch(/^opt: not mounted /);
    expect(human.stdout).toContain(`\n\nsrv: cannot be read: ${t.root}/etc/state-overlay/srv.conf:2: Reconcile=sometimes: expected changed, all or none`);
    expect(human.stdout).toContain(`\n\nusr-local: cannot be read: ${t.root}/var/lib/state-overlay/usr-local/state.json: not JSON`);
    expect(human.stderr).toBe('state-overlay: 2 of 3 overlays could not be read: srv, usr-local');
    const json = await cli(t.root, ['--json', 'status']);
    const doc = JSON.parse(json.stdout) as { overlays: { name: string }[]; failed: { name: string; code: string }[] };
    expect(check(schema, doc)).toEqual([]);
    expect(doc.overlays.map((o) => o.name)).toEqual(['opt']);
    expect(doc.failed.map((f) => [f.name, f.code])).toEqual([['srv', 'config'], ['usr-local', 'corrupt']]);
  });
});
