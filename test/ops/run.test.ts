// `run` end to end on real overlay mounts over scratch trees: first run, rerun, base update, ephemeral,
// separate Base=, reload (and deferred when busy), ostree migration.
import fs from 'node:fs';
import path from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/exec.js';
import { readMountinfo, topMountAt } from '../../src/mount/mountinfo.js';
import { mountStatus } from '../../src/mount/overlay.js';
import { unmountOverlay } from '../../src/mount/unmount.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { runOverlay } from '../../src/ops/run.js';
import { readState } from '../../src/state/state-file.js';
import { createNotifier } from '../../src/systemd/notify.js';
import { failOn } from '../inject.js';
import { cli, makeScratch, type Scratch } from '../mount/scratch.js';

const notifier = createNotifier({ env: {} });
let s: Scratch;

beforeEach(() => {
  s = makeScratch();
});
afterEach(() => {
  vi.restoreAllMocks();
  return s.cleanup();
});

const read = (p: string) => fs.readFileSync(p, 'utf8');

describe('run', () => {
  it('first run: mounts, then records the generation and its manifest', async () => {
    const r = await cli(s.root, ['run', 'opt']);
    expect(r.exitCode).toBe(0);
    // log records go to stderr as JSON lines (not a terminal, not under systemd)
    const events = r.stderr.split('\n').map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual(['generation', 'reconcile.start', 'reconcile.done', 'mount.done', 'run.ready', 'run.manifest']);
    const ov = s.ctx().overlay('opt');
    const state = readState(ov.layout)!;
    expect(state.generation).toMatch(/^tree:[0-9a-f]{64}$/);
    expect(r.stdout).toBe(`mounted opt on ${ov.layout.target}; after a reconcile; generation ${state.generation}`);
    expect(mountStatus(ov).state).toBe('mounted');
    expect(state.manifest).not.toBeNull();
    expect(fs.readdirSync(ov.layout.manifestsDir)).toEqual([state.manifest]);
  });

  it('with a shipped manifest: its generation is recorded and the manifest kept, nothing hashed', async () => {
    expect((await cli(s.root, ['-q', 'index', '--ship', 'opt'])).exitCode).toBe(0);
    const ov = s.ctx().overlay('opt');
    const r = await runOverlay(ov, s.log, { notifier });
    expect(r.generation).toMatch(/^manifest:[0-9a-f]{64}$/);
    expect(readState(ov.layout)).toMatchObject({ generation: r.generation, manifest: path.basename(r.manifest!) });
    expect(fs.readFileSync(r.manifest!).equals(fs.readFileSync(ov.layout.shippedManifest))).toBe(true);
    expect(s.log.events).toContainEqual(expect.objectContaining({ event: 'run.manifest', entries: 0 }));
  });

  it('shipped manifest: unchanged, the rerun writes nothing; an image update of the same size is seen and reconciled', async () => {
    const ship = async () => expect((await cli(s.root, ['-q', 'index', '--ship', 'opt'])).exitCode).toBe(0);
    await ship();
    const ov = s.ctx().overlay('opt');
    const first = await runOverlay(ov, s.log, { notifier });
    await unmountOverlay(ov, s.log);
    const stateBefore = read(ov.layout.stateFile);
    const again = await runOverlay(ov, s.log, { notifier });
    expect(again).toMatchObject({ generation: first.generation, reconciled: false, mounted: true, changed: true, manifest: first.manifest });
    expect(read(ov.layout.stateFile)).toBe(stateBefore);
    await unmountOverlay(ov, s.log);
    // The update changes a file's content, not its size: the new manifest differs only in a digest.
    s.write('opt/app/bin/tool', 'v2\n');
    const size = fs.statSync(ov.layout.shippedManifest).size;
    await ship();
    expect(fs.statSync(ov.layout.shippedManifest).size).toBe(size);
    const updated = await runOverlay(ov, s.log, { notifier });
    expect(updated).toMatchObject({ reconciled: true, mounted: true, changed: true });
    expect(updated.generation).not.toBe(first.generation);
    expect(readState(ov.layout)).toMatchObject({ generation: updated.generation, lastReconcile: { from: first.generation, to: updated.generation } });
  });

  it('rerun: nothing to do, nothing changed', async () => {
    const ov = s.ctx().overlay('opt');
    await runOverlay(ov, s.log, { notifier });
    const mounts = s.mounts();
    const stateBefore = read(ov.layout.stateFile);
    const st = fs.statSync(ov.layout.stateFile);
    const r = await runOverlay(ov, s.log, { notifier });
    expect(r).toMatchObject({ reconciled: false, mounted: true, changed: false, deferred: false });
    expect(s.mounts()).toEqual(mounts);
    expect(read(ov.layout.stateFile)).toBe(stateBefore);
    expect(fs.statSync(ov.layout.stateFile).mtimeMs).toBe(st.mtimeMs);
  });

  it('base update then run: reconciles (a copy of an updated file goes to backups), then mounts', async () => {
    const ov = s.ctx().overlay('opt');
    await runOverlay(ov, s.log, { notifier });
    fs.writeFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'local edit\n'); // shadow of a file the update changes
    fs.writeFileSync(path.join(ov.layout.target, 'app/etc/app.conf'), 'a=2\n'); // edit of a file the update leaves alone
    fs.writeFileSync(path.join(ov.layout.target, 'state.db'), 'data'); // pure state
    const g0 = readState(ov.layout)!.generation;
    await unmountOverlay(ov, s.log);
    s.write('opt/app/bin/tool', 'v2\n'); // the image update
    const r = await runOverlay(ov, s.log, { notifier });
    expect(r).toMatchObject({ reconciled: true, mounted: true, changed: true, deferred: false });
    expect(r.generation).not.toBe(g0);
    expect(read(path.join(ov.layout.target, 'app/bin/tool'))).toBe('v2\n');
    expect(read(path.join(ov.layout.target, 'app/etc/app.conf'))).toBe('a=2\n');
    expect(read(path.join(ov.layout.target, 'state.db'))).toBe('data');
    expect(readState(ov.layout)).toMatchObject({ generation: r.generation, lastReconcile: { from: g0, to: r.generation } });
    expect(fs.readdirSync(ov.layout.backupsDir)).toHaveLength(1);
    expect(s.log.events.map((e) => e.event)).toContain('reconcile.drop');
  });

  it('a run stopped mid-reconcile mounts nothing; the next run finishes the journal, then mounts', async () => {
    const ov = s.ctx().overlay('opt');
    await runOverlay(ov, s.log, { notifier });
    fs.writeFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'local edit\n');
    fs.writeFileSync(path.join(ov.layout.target, 'app/etc/app.conf'), 'local edit\n');
    await unmountOverlay(ov, s.log);
    s.write('opt/app/bin/tool', 'v2\n');
    s.write('opt/app/etc/app.conf', 'a=2\n');
    const cut = await cli(s.root, ['-q', 'run', 'opt'], { STATE_OVERLAY_FAULT_AFTER: '1' });
    expect(cut.exitCode).toBe(1);
    expect(cut.stderr).toMatch(/^state-overlay: STATE_OVERLAY_FAULT_AFTER=1: stopped after action 1 of \d+ \(test-only fault point\)$/);
    expect(s.mounts()).toEqual([]);
    expect(fs.existsSync(ov.layout.journal)).toBe(true);
    expect(await cli(s.root, ['-q', 'mount', 'opt'])).toMatchObject({ exitCode: 75 });
    const r = await cli(s.root, ['-q', '--json', 'run', 'opt']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ reconciled: true, mounted: true, changed: true, deferred: false });
    expect(fs.existsSync(ov.layout.journal)).toBe(false);
    expect(read(path.join(ov.layout.target, 'app/bin/tool'))).toBe('v2\n');
    expect(read(path.join(ov.layout.target, 'app/etc/app.conf'))).toBe('a=2\n');
  });

  it('ephemeral mode: upper on a tmpfs under /run, state dir still records the generation', async () => {
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nMode=ephemeral\n');
    const ov = s.ctx().overlay('opt');
    const r = await runOverlay(ov, s.log, { notifier });
    expect(r.mounted).toBe(true);
    expect(topMountAt(readMountinfo(), ov.layout.runDir)!.fstype).toBe('tmpfs');
    fs.writeFileSync(path.join(ov.layout.target, 'x'), 'y');
    expect(read(path.join(s.root, 'run/state-overlay/opt/upper/x'))).toBe('y');
    expect(fs.existsSync(path.join(s.root, 'var/lib/state-overlay/opt/upper'))).toBe(false);
  });

  it('separate Base=: reload after the base changed while mounted', async () => {
    s.write('usr/lib/opt/app/bin/tool', 'img1\n');
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/usr/lib/opt\n');
    const ov = s.ctx().overlay('opt');
    await runOverlay(ov, s.log, { notifier });
    fs.writeFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'local\n');
    s.write('usr/lib/opt/app/bin/tool', 'img2\n');
    // without --reload the change waits
    expect(await runOverlay(ov, s.log, { notifier })).toMatchObject({ reconciled: false, mounted: true, changed: false, deferred: true });
    expect(read(path.join(ov.layout.target, 'app/bin/tool'))).toBe('local\n');
    const r = await runOverlay(ov, s.log, { notifier, reload: true });
    expect(r).toMatchObject({ reconciled: true, mounted: true, changed: true, deferred: false });
    expect(read(path.join(ov.layout.target, 'app/bin/tool'))).toBe('img2\n');
  });

  it('reload while busy: logs watch.deferred and leaves the mount alone', async () => {
    s.write('usr/lib/opt/app/bin/tool', 'img1\n');
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/usr/lib/opt\n');
    const ov = s.ctx().overlay('opt');
    await runOverlay(ov, s.log, { notifier });
    s.write('usr/lib/opt/app/bin/tool', 'img2\n');
    const child = await s.hold(ov.layout.target);
    const r = await runOverlay(ov, s.log, { notifier, reload: true });
    expect(r).toMatchObject({ reconciled: false, mounted: true, changed: false, deferred: true });
    expect(mountStatus(ov).state).toBe('mounted');
    expect(s.log.events.at(-2)).toEqual({
      event: 'watch.deferred',
      name: 'opt',
      reason: `${ov.layout.target} is busy: held by pid ${child.pid} (sleep 600): cwd (stop them first; 'unmount --lazy' only at shutdown: a detached overlay keeps writing into the upper until they exit)`,
    });
  });

  it('an escaped NAME with a separate Base= counts as mounted for an offline reconcile', async () => {
    fs.mkdirSync(path.join(s.root, 'opt/my-app'));
    s.write('usr/lib/my-app/bin/tool', 'img1\n');
    s.write('etc/state-overlay/opt-my\\x2dapp.conf', '[Overlay]\nBase=/usr/lib/my-app\n');
    const ov = s.ctx().overlay('opt-my\\x2dapp');
    await runOverlay(ov, s.log, { notifier });
    await expect(reconcileOverlay(ov, s.log, { force: true })).rejects.toMatchObject({
      code: 'mounted',
      message: `overlay opt-my\\x2dapp is mounted on ${ov.layout.target}: unmount it first (this runs offline)`,
    });
  });

  it('migrates an ostree state overlay on first run; with no deployment recorded on it, its shadows fall under rule 10', async () => {
    const old = path.join(s.root, 'var/ostree/state-overlays/opt');
    s.write('var/ostree/state-overlays/opt/upper/app/bin/tool', 'ostree-era copy\n');
    s.write('var/ostree/state-overlays/opt/upper/state.db', 'kept');
    fs.mkdirSync(path.join(old, 'work/work'), { recursive: true });
    const ov = s.ctx().overlay('opt');
    const r = await runOverlay(ov, s.log, { notifier });
    expect(r.mounted).toBe(true);
    expect(fs.existsSync(old)).toBe(false);
    expect(s.log.events).toContainEqual({ event: 'migrate.ostree', name: 'opt', from: path.join(old, 'upper'), to: ov.layout.upper, deployment: null, base: null });
    // UnknownBase=prune: the shadow goes to backups (ostree's rule), pure state stays
    expect(read(path.join(ov.layout.target, 'app/bin/tool'))).toBe('v1\n');
    expect(read(path.join(ov.layout.target, 'state.db'))).toBe('kept');
  });

  it("migration: the deployment ostree's xattr names, on disk, is the recorded base; a value ostree would not read is none", async () => {
    const sum = 'c'.repeat(64);
    // The deployment the upper was made against, on the sysroot itself (/ostree, not /sysroot/ostree): its tool is the base's.
    const checkout = path.join(s.root, `ostree/deploy/debian/deploy/${sum}.0`);
    s.write(`ostree/deploy/debian/deploy/${sum}.0/opt/app/bin/tool`, 'v1\n');
    const upper = path.dirname(path.dirname(path.dirname(s.write('var/ostree/state-overlays/opt/upper/app/bin/tool', 'ostree-era copy\n'))));
    setAttributeSync(upper, 'user.ostree.deploymentcsum', sum);
    const ov = s.ctx().overlay('opt');
    await runOverlay(ov, s.log, { notifier });
    expect(s.log.events).toContainEqual(expect.objectContaining({ event: 'migrate.ostree', deployment: sum, base: path.join(checkout, 'opt') }));
    // B0 (the deployment's tool) is B1: the edit is kept (rule 2), where rule 10 would have dropped it.
    expect(readState(ov.layout)?.lastReconcile).toMatchObject({ from: `ostree:${sum}` });
    expect(read(path.join(ov.layout.target, 'app/bin/tool'))).toBe('ostree-era copy\n');
    await unmountOverlay(ov, s.log);

    const t = makeScratch();
    try {
      const bad = path.dirname(path.dirname(path.dirname(t.write('var/ostree/state-overlays/opt/upper/app/bin/tool', 'ostree-era copy\n'))));
      t.write(`ostree/deploy/debian/deploy/${sum}.0/opt/app/bin/tool`, 'v1\n');
      setAttributeSync(bad, 'user.ostree.deploymentcsum', `${sum}\n`);
      await runOverlay(t.ctx().overlay('opt'), t.log, { notifier });
      expect(t.log.events).toContainEqual(expect.objectContaining({ event: 'migrate.ostree', deployment: null, base: null }));
      expect(read(path.join(t.ctx().overlay('opt').layout.target, 'app/bin/tool'))).toBe('v1\n');
    } finally {
      await t.cleanup();
    }
  });

  it("migration removes ostree's whole NAME dir, but keeps it for a file that is not ostree's", async () => {
    const old = path.join(s.root, 'var/ostree/state-overlays/opt');
    s.write('var/ostree/state-overlays/opt/upper/state.db', 'kept');
    s.write('var/ostree/state-overlays/opt/notes.txt', 'mine');
    fs.mkdirSync(path.join(old, 'work/work'), { recursive: true });
    const ov = s.ctx().overlay('opt');
    expect((await runOverlay(ov, s.log, { notifier })).mounted).toBe(true);
    expect(fs.readdirSync(old)).toEqual(['notes.txt']);
    expect(read(path.join(ov.layout.target, 'state.db'))).toBe('kept');
  });

  it('migration: an ostree state dir it cannot inspect or remove, other than absent or kept, is an error naming it', async () => {
    const old = path.join(s.root, 'var/ostree/state-overlays/opt');
    fs.mkdirSync(path.dirname(old), { recursive: true });
    fs.symlinkSync('opt', old); // a loop: ELOOP, not ENOENT
    const ov = s.ctx().overlay('opt');
    await expect(runOverlay(ov, s.log, { notifier })).rejects.toMatchObject({ code: 'io', message: `lstat ${old}/upper: ELOOP` });
    expect(s.mounts()).toEqual([]);
    fs.rmSync(old);
    s.write('var/ostree/state-overlays/opt/upper/state.db', 'kept');
    fs.mkdirSync(path.join(old, 'work/work'), { recursive: true });
    failOn('rmdirSync', old, 'EIO');
    await expect(runOverlay(ov, s.log, { notifier })).rejects.toMatchObject({ code: 'io', message: `remove directory ${old}: EIO` });
    vi.restoreAllMocks();
    // The upper was moved first: the next run mounts it.
    expect(read(path.join(ov.layout.upper, 'state.db'))).toBe('kept');
    expect((await runOverlay(ov, s.log, { notifier })).mounted).toBe(true);
    expect(read(path.join(ov.layout.target, 'state.db'))).toBe('kept');
  });

  it('refuses to migrate across filesystems, moving nothing', async () => {
    const ostree = path.join(s.root, 'var/ostree');
    fs.mkdirSync(ostree, { recursive: true });
    await run('mount', ['-t', 'tmpfs', 'test-ostree', ostree]);
    s.write('var/ostree/state-overlays/opt/upper/state.db', 'kept');
    const old = path.join(ostree, 'state-overlays/opt/upper');
    const ov = s.ctx().overlay('opt');
    await expect(runOverlay(ov, s.log, { notifier })).rejects.toMatchObject({
      code: 'unsupported',
      message: `cannot move ${old} to ${ov.layout.upper}: they are on different filesystems; move it by hand (cp -a, keeping xattrs) and run again`,
    });
    expect(read(path.join(old, 'state.db'))).toBe('kept');
    expect(fs.existsSync(ov.layout.upper)).toBe(false);
    expect(s.mounts()).toEqual([ostree]);
  });

  it('refuses to migrate an ostree upper that is still mounted', async () => {
    const old = path.join(s.root, 'var/ostree/state-overlays/opt');
    for (const d of ['upper', 'work']) fs.mkdirSync(path.join(old, d), { recursive: true });
    fs.mkdirSync(path.join(s.root, 'elsewhere'));
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${s.root}/opt,upperdir=${old}/upper,workdir=${old}/work`, path.join(s.root, 'elsewhere')]);
    const ov = s.ctx().overlay('opt');
    await expect(runOverlay(ov, s.log, { notifier })).rejects.toMatchObject({
      code: 'busy',
      message: `${old}/upper is the upper of the overlay mounted on ${s.root}/elsewhere: stop ostree-state-overlay@opt.service and unmount it first`,
    });
  });
});
