// The product on a host booted from a real ostree sysroot (ostree-sysroot.ts): the generation of the
// deployment the kernel argument boots, the adoption of ostree's own state overlay, and Base= on a
// deployment's physical checkout, each through the CLI as the unit runs it.
import fs from 'node:fs';
import path from 'node:path';
import { setAttributeSync, getAttributeSync } from 'fs-xattr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { cli } from '../cli/cli.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { adminStatus, bootHost, commitTree, deploy, initSysroot, loaderEntries, mountOstreeOverlay, OS, ostree, repoArg, shutDown, unlockDeployments } from './ostree-sysroot.js';
import { snapshot, type Spec } from './scratch.js';

let root: string;
/** The physical root (the disk). */
let sysroot: string;
/** / of the booted system. */
let host: string;
beforeEach(() => {
  root = scratch('so-ostree-host-');
  sysroot = path.join(root, 'disk');
  host = path.join(root, 'host');
  initSysroot(sysroot);
});
afterEach(async () => {
  await shutDown(host);
  await unlockDeployments(sysroot);
  await removeTree(root);
});

const so = (...args: string[]) => cli(['--root', host, ...args]);
const events = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
const checkout = (checksum: string) => path.join(sysroot, 'ostree/deploy', OS, 'deploy', `${checksum}.0`);
const read = (rel: string) => fs.readFileSync(path.join(host, 'opt', rel), 'utf8');
const upperOf = () => path.join(host, 'var/lib/state-overlay/opt/upper');

interface OverlayStatus {
  generation: { recorded: string | null; current: string | null; source: string | null };
}
function statusJson(): OverlayStatus {
  const r = so('--json', 'status', 'opt');
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { overlays: OverlayStatus[] };
  expect(doc.overlays).toHaveLength(1);
  return doc.overlays[0]!;
}

function runOpt(): ReturnType<typeof events> {
  const r = so('run', 'opt');
  expect(r.code, r.stderr).toBe(0);
  return events(r.stderr);
}

/** What the reconcile did, path by path: [path, kind of event, rule]. */
const decisions = (evs: ReturnType<typeof events>) =>
  evs.filter((e) => ['reconcile.drop', 'reconcile.keep', 'reconcile.sidecar'].includes(e.event)).map((e) => [e.path, e.event.slice('reconcile.'.length), e.rule]);

/** An image whose /opt holds an application at version v; `changed` paths get v in their content, the rest stays the same. */
function image(v: string, changed: readonly string[], extra: Record<string, Spec> = {}): Record<string, Spec> {
  const files = ['app/bin/tool', 'app/lib/lib.so', 'app/etc/app.conf', 'app/share/doc.txt', 'app/share/gone.txt', 'app/plugins/a.so'];
  return { ...Object.fromEntries(files.map((f) => [`opt/${f}`, changed.includes(f) ? `${f} ${v}\n` : `${f}\n`])), ...extra };
}
const CHANGED = ['app/bin/tool', 'app/etc/app.conf', 'app/share/gone.txt'];

/** Unmounts the overlay (the unit's stop) and powers the host off. */
async function reboot(): Promise<void> {
  const r = so('-q', 'unmount', 'opt');
  expect(r.code, r.stderr).toBe(0);
  await shutDown(host);
}

describe('Generation=ostree on a booted ostree host', () => {
  it("is the commit of the deployment the ostree= argument boots, as ostree admin status and rev-parse name it; another boot entry, another generation", async () => {
    const conf = { 'usr/lib/state-overlay/opt.conf': '[Overlay]\nGeneration=ostree\n' };
    const c1 = await commitTree(sysroot, `${OS}/stable`, image('v1', CHANGED, conf));
    const c2 = await commitTree(sysroot, `${OS}/stable`, image('v2', CHANGED, conf));
    deploy(sysroot, c1);
    deploy(sysroot, `${OS}/stable`);
    expect([ostree(repoArg(sysroot), 'rev-parse', `${OS}/stable`), ostree(repoArg(sysroot), 'rev-parse', `${OS}/stable^`)]).toEqual([c2, c1]);
    // Not booted from this sysroot: no `*`, no (pending)/(rollback); the order alone says the default.
    expect(adminStatus(sysroot)).toEqual([
      { booted: false, osname: OS, checksum: c2, serial: 0, mark: '' },
      { booted: false, osname: OS, checksum: c1, serial: 0, mark: '' },
    ]);
    const [latest, previous] = loaderEntries(sysroot);
    expect(await bootHost(host, sysroot, latest!)).toBe(checkout(c2));
    expect(statusJson().generation).toMatchObject({ recorded: null, current: `ostree:${c2}`, source: 'ostree' });
    const first = runOpt();
    expect(first.find((e) => e.event === 'run.ready')).toMatchObject({ generation: `ostree:${c2}` });
    expect(statusJson().generation).toMatchObject({ recorded: `ostree:${c2}`, current: `ostree:${c2}` });
    fs.writeFileSync(path.join(host, 'opt/app/bin/tool'), 'tool, local build\n');
    fs.writeFileSync(path.join(host, 'opt/app/state.db'), 'state\n');
    await reboot();

    // The older entry (a rollback): the generation follows the karg, and the base changed under the edit.
    expect(await bootHost(host, sysroot, previous!)).toBe(checkout(c1));
    expect(statusJson().generation).toMatchObject({ recorded: `ostree:${c2}`, current: `ostree:${c1}`, source: 'ostree' });
    const second = runOpt();
    expect(second.find((e) => e.event === 'generation')).toMatchObject({ recorded: `ostree:${c2}`, current: `ostree:${c1}` });
    expect(decisions(second)).toContainEqual(['app/bin/tool', 'drop', 3]);
    expect([read('app/bin/tool'), read('app/state.db')]).toEqual(['app/bin/tool v1\n', 'state\n']);
    expect(statusJson().generation).toMatchObject({ recorded: `ostree:${c1}`, current: `ostree:${c1}` });
  });
});

describe("migration from ostree's own state overlay", () => {
  /**
   * Boots c1 and runs what ostree-state-overlay@opt.service runs (ot-admin-builtin-state-overlay.c):
   * NAME/, work/ and upper/ made 0700, the booted commit set as user.ostree.deploymentcsum on upper/,
   * the overlay mounted over the mountpoint itself; then the host writes through it (the kernel makes
   * the whiteouts and the opaque dir) and the overlay is stopped.
   */
  async function ostreeEra(c1: string): Promise<{ upper: string; before: Map<string, string>; ino: bigint }> {
    await bootHost(host, sysroot, loaderEntries(sysroot)[0]!);
    const dir = path.join(host, 'var/ostree/state-overlays/opt');
    const upper = path.join(dir, 'upper');
    const work = path.join(dir, 'work');
    for (const d of [dir, work, upper]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    setAttributeSync(upper, 'user.ostree.deploymentcsum', Buffer.from(c1));
    const opt = path.join(host, 'opt');
    await mountOstreeOverlay(opt, upper, work, opt);
    fs.writeFileSync(path.join(opt, 'app/bin/tool'), 'tool, local build\n');
    fs.writeFileSync(path.join(opt, 'app/lib/lib.so'), 'lib, patched\n');
    fs.unlinkSync(path.join(opt, 'app/share/doc.txt'));
    fs.unlinkSync(path.join(opt, 'app/share/gone.txt'));
    fs.rmSync(path.join(opt, 'app/plugins'), { recursive: true });
    fs.mkdirSync(path.join(opt, 'app/plugins'));
    fs.writeFileSync(path.join(opt, 'app/plugins/mine.so'), 'my plugin\n');
    fs.mkdirSync(path.join(opt, 'app/var'));
    fs.writeFileSync(path.join(opt, 'app/var/state.db'), 'state\n');
    await run('umount', [opt]);
    const before = snapshot(upper);
    expect(before.get('app/share/doc.txt')).toMatch(/^chr 0 0:0 0 /);
    expect(before.get('app/plugins')).toMatch(/^dir .* y$/);
    const ino = fs.statSync(upper, { bigint: true }).ino;
    await shutDown(host);
    return { upper, before, ino };
  }

  /** Where each non-directory of the original upper is now, byte-identical: the upper, the one backup set, or lost. */
  function whereNow(before: Map<string, string>): Array<[string, string]> {
    const upper = snapshot(upperOf());
    const backupsDir = path.join(host, 'var/lib/state-overlay/opt/backups');
    const sets = fs.existsSync(backupsDir) ? fs.readdirSync(backupsDir).map((s) => snapshot(path.join(backupsDir, s, 'upper'))) : [];
    return [...before]
      .filter(([, d]) => !d.startsWith('dir '))
      .map(([p, d]) => [p, upper.get(p) === d ? 'upper' : sets.some((b) => b.get(p) === d) ? 'backups' : 'lost']);
  }

  it('moves the upper (same inode) and reconciles it against the deployment its xattr names, precisely', async () => {
    const c1 = await commitTree(sysroot, `${OS}/stable`, image('v1', CHANGED));
    deploy(sysroot, c1);
    const { upper, before, ino } = await ostreeEra(c1);
    const c2 = await commitTree(sysroot, `${OS}/stable`, image('v2', CHANGED));
    deploy(sysroot, `${OS}/stable`);
    await bootHost(host, sysroot, loaderEntries(sysroot)[0]!);

    const evs = runOpt();
    const base = path.join(host, 'sysroot/ostree/deploy', OS, 'deploy', `${c1}.0`, 'opt');
    expect(evs.find((e) => e.event === 'migrate.ostree')).toMatchObject({ from: upper, to: upperOf(), deployment: c1, base });
    expect(evs.find((e) => e.event === 'generation')).toMatchObject({ recorded: `ostree:${c1}`, current: `ostree:${c2}` });
    // Renamed, not copied: the same directory, ostree's xattr on it; ostree's NAME dir gone.
    expect(fs.statSync(upperOf(), { bigint: true }).ino).toBe(ino);
    expect(getAttributeSync(upperOf(), 'user.ostree.deploymentcsum').toString()).toBe(c1);
    expect(fs.existsSync(path.dirname(upper))).toBe(false);
    // The decision table against c1's tree, not rule 10: what c2 left alone stays, what it changed goes.
    expect(decisions(evs).sort()).toEqual([
      ['app/bin/tool', 'drop', 3],
      ['app/share/gone.txt', 'drop', 4],
    ]);
    expect(whereNow(before).sort()).toEqual([
      ['app/bin/tool', 'backups'],
      ['app/lib/lib.so', 'upper'],
      ['app/plugins/mine.so', 'upper'],
      ['app/share/doc.txt', 'upper'],
      ['app/share/gone.txt', 'backups'],
      ['app/var/state.db', 'upper'],
    ]);
    expect([read('app/bin/tool'), read('app/lib/lib.so'), read('app/share/gone.txt'), read('app/var/state.db')]).toEqual(['app/bin/tool v2\n', 'lib, patched\n', 'app/share/gone.txt v2\n', 'state\n']);
    expect(fs.existsSync(path.join(host, 'opt/app/share/doc.txt'))).toBe(false);
    expect(fs.readdirSync(path.join(host, 'opt/app/plugins'))).toEqual(['mine.so']);
  });

  it('with that deployment no longer on disk: no recorded base, so rule 10 prunes every shadow (as ostree would)', async () => {
    const c1 = await commitTree(sysroot, `${OS}/stable`, image('v1', CHANGED));
    deploy(sysroot, c1);
    const { before } = await ostreeEra(c1);
    await commitTree(sysroot, `${OS}/stable`, image('v2', CHANGED));
    deploy(sysroot, `${OS}/stable`);
    // The older deployment (index 1) removed, as ostree's cleanup does after further upgrades.
    ostree('admin', 'undeploy', `--sysroot=${sysroot}`, '1');
    expect(fs.existsSync(checkout(c1))).toBe(false);
    await bootHost(host, sysroot, loaderEntries(sysroot)[0]!);

    const evs = runOpt();
    expect(evs.find((e) => e.event === 'migrate.ostree')).toMatchObject({ deployment: c1, base: null });
    expect(evs.find((e) => e.event === 'generation')).toMatchObject({ recorded: null });
    expect(decisions(evs).filter((d) => d[1] === 'drop').sort()).toEqual([
      ['app/bin/tool', 'drop', 10],
      ['app/lib/lib.so', 'drop', 10],
    ]);
    expect(whereNow(before).filter(([, w]) => w !== 'upper').sort()).toEqual([
      ['app/bin/tool', 'backups'],
      ['app/lib/lib.so', 'backups'],
    ]);
  });
});

describe("Base= a deployment's physical checkout", () => {
  it('follows Base= to the next deployment and reconciles by the decision table', async () => {
    const c1 = await commitTree(sysroot, `${OS}/stable`, image('v1', CHANGED));
    deploy(sysroot, c1);
    await bootHost(host, sysroot, loaderEntries(sysroot)[0]!);
    const conf = (c: string) => `[Overlay]\nBase=/ostree/deploy/${OS}/deploy/${c}.0/opt\n[Paths]\nConfig=/opt/app/etc/**\n`;
    fs.mkdirSync(path.join(host, 'etc/state-overlay'), { recursive: true });
    fs.writeFileSync(path.join(host, 'etc/state-overlay/opt.conf'), conf(c1));
    runOpt();
    fs.writeFileSync(path.join(host, 'opt/app/bin/tool'), 'tool, local build\n');
    fs.writeFileSync(path.join(host, 'opt/app/lib/lib.so'), 'lib, patched\n');
    fs.writeFileSync(path.join(host, 'opt/app/etc/app.conf'), 'my settings\n');
    fs.unlinkSync(path.join(host, 'opt/app/share/gone.txt'));
    fs.writeFileSync(path.join(host, 'opt/app/state.db'), 'state\n');
    await reboot();
    const oldCheckout = snapshot(path.join(checkout(c1), 'opt'));

    const c2 = await commitTree(sysroot, `${OS}/stable`, image('v2', CHANGED));
    deploy(sysroot, `${OS}/stable`);
    // ostree carried /etc into the new deployment; the operator points Base= at its checkout before booting it.
    const nextConf = path.join(checkout(c2), 'etc/state-overlay/opt.conf');
    expect(fs.readFileSync(nextConf, 'utf8')).toBe(conf(c1));
    fs.writeFileSync(nextConf, conf(c2));
    await bootHost(host, sysroot, loaderEntries(sysroot)[0]!);

    const evs = runOpt();
    expect(evs.find((e) => e.event === 'generation')).toMatchObject({ recorded: `ostree:${c1}`, current: `ostree:${c2}` });
    expect(evs.find((e) => e.event === 'mount.done')).toMatchObject({ lower: path.join(host, `run/state-overlay/opt/base`) });
    expect(decisions(evs).sort()).toEqual([
      ['app/bin/tool', 'drop', 3],
      ['app/etc/app.conf', 'keep', 3],
      ['app/etc/app.conf', 'sidecar', 3],
      ['app/share/gone.txt', 'drop', 4],
    ]);
    expect([read('app/bin/tool'), read('app/lib/lib.so'), read('app/etc/app.conf'), read('app/etc/app.conf.rpmnew'), read('app/share/gone.txt'), read('app/state.db')]).toEqual([
      'app/bin/tool v2\n',
      'lib, patched\n',
      'my settings\n',
      'app/etc/app.conf v2\n',
      'app/share/gone.txt v2\n',
      'state\n',
    ]);
    // The base bind shows the new checkout; the old one was never written to.
    expect(fs.readFileSync(path.join(host, 'run/state-overlay/opt/base/app/bin/tool'), 'utf8')).toBe('app/bin/tool v2\n');
    expect(snapshot(path.join(checkout(c1), 'opt'))).toEqual(oldCheckout);
  });
});
