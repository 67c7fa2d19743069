// `preview`: while the overlay is mounted, the plan the next boot will apply with a staged base, equal to
// what `reconcile --dry-run` plans once that base is in place; nothing changes meanwhile.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { cli } from '../cli/cli.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { snapshot, writeTree } from './scratch.js';

let root: string;
beforeEach(() => {
  root = scratch('so-preview-');
});
afterEach(async () => {
  await tryRun('umount', ['-R', path.join(root, 'opt')]);
  await tryRun('umount', ['-R', path.join(root, 'run/state-overlay/opt/base')]);
  await removeTree(root);
});

const V1 = { 'app/bin/tool': 'tool v1\n', 'app/etc/app.conf': 'port=80\n', 'app/etc/other.conf': 'x=1\n', 'app/share/doc': 'doc v1\n', 'app/lib/same.so': 'same\n' };
const upper = () => path.join(root, 'var/lib/state-overlay/opt/upper');
const so = (...args: string[]) => cli(['--root', root, '-q', ...args]);

/** /opt at v1, run (mounted, recorded), edited through the mount; v2 staged at root/next (an image root). */
async function mountedWithStaged(): Promise<string> {
  fs.mkdirSync(path.join(root, 'etc/state-overlay'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/state-overlay/opt.conf'), '[Paths]\nConfig=/opt/app/etc/**\n');
  await writeTree(path.join(root, 'opt'), V1);
  expect(so('run', 'opt')).toMatchObject({ code: 0 });
  const opt = path.join(root, 'opt');
  fs.writeFileSync(path.join(opt, 'app/bin/tool'), 'tool (local build)\n');
  fs.writeFileSync(path.join(opt, 'app/etc/app.conf'), 'port=8080\n');
  fs.writeFileSync(path.join(opt, 'app/etc/other.conf'), 'x=2\n');
  fs.rmSync(path.join(opt, 'app/share/doc'));
  // A copy-up and nothing more: the same content, a new mtime.
  fs.utimesSync(path.join(opt, 'app/lib/same.so'), new Date(), new Date());
  fs.mkdirSync(path.join(opt, 'app/data'));
  fs.writeFileSync(path.join(opt, 'app/data/state.db'), 'state\n');
  const next = path.join(root, 'next');
  await writeTree(path.join(next, 'opt'), { ...V1, 'app/bin/tool': 'tool v2\n', 'app/etc/app.conf': 'port=80\nlog=1\n', 'app/share/doc': 'doc v2\n' });
  return next;
}

/** The plan of a --json report: its actions and conflicts. */
const planOf = (stdout: string) => {
  const d = JSON.parse(stdout) as { actions: unknown[]; conflicts: unknown[] };
  return { actions: d.actions, conflicts: d.conflicts };
};

describe('preview', () => {
  it('--base: while mounted, plans what reconcile --dry-run plans once that base is in place, changing nothing', async () => {
    const next = await mountedWithStaged();
    const before = { upper: snapshot(upper()), state: fs.readFileSync(path.join(root, 'var/lib/state-overlay/opt/state.json'), 'utf8') };
    const text = so('preview', 'opt', '--base', path.join(next, 'opt'));
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(`opt: next boot with ${path.join(next, 'opt')}: 2 local changes will be dropped to backups, 1 config file gets the new version beside it (.rpmnew/.dpkg-dist), 1 redundant copy of the base removed`);
    expect(lines).toEqual(expect.arrayContaining([
      'rule  3  drop        /opt/app/bin/tool  (the base changed this path)',
      'rule  4  drop        /opt/app/share/doc  (deleted locally, changed in the base: it comes back)',
      'rule  3  sidecar     /opt/app/etc/app.conf.rpmnew <- base app/etc/app.conf  (modified config file the base changed: new base content written beside it)',
    ]));
    const preview = so('--json', 'preview', 'opt', '--base', path.join(next, 'opt'));
    expect(preview.code, preview.stderr).toBe(0);
    expect(JSON.parse(preview.stdout)).toMatchObject({ apiVersion: 'state-overlay/v1', kind: 'PreviewReport', name: 'opt', dryRun: true, upToDate: false, dropped: 3, refused: null });
    // Nothing changed, and the overlay is still mounted.
    expect(snapshot(upper())).toEqual(before.upper);
    expect(fs.readFileSync(path.join(root, 'var/lib/state-overlay/opt/state.json'), 'utf8')).toBe(before.state);
    expect(fs.readFileSync(path.join(root, 'opt/app/bin/tool'), 'utf8')).toBe('tool (local build)\n');

    // The update: the staged tree becomes the base; the boot's dry run plans the same.
    expect(so('unmount', 'opt')).toMatchObject({ code: 0 });
    await run('cp', ['-a', '--', `${path.join(next, 'opt')}/.`, path.join(root, 'opt')]);
    const dry = so('--json', 'reconcile', 'opt', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(planOf(preview.stdout)).toEqual(planOf(dry.stdout));
  });

  it('--image-root with a shipped manifest, and --manifest alone, plan as the boot of that image does', async () => {
    const next = await mountedWithStaged();
    expect(cli(['--root', next, '-q', 'index', 'opt', '--ship'])).toMatchObject({ code: 0 });
    const manifest = path.join(next, 'usr/lib/state-overlay/opt.manifest');
    const byRoot = so('--json', 'preview', 'opt', '--image-root', next);
    expect(byRoot.code, byRoot.stderr).toBe(0);
    expect(JSON.parse(byRoot.stdout).source).toEqual({ base: path.join(next, 'opt'), manifest });
    const byManifest = so('--json', 'preview', 'opt', '--manifest', manifest);
    expect(byManifest.code, byManifest.stderr).toBe(0);
    // A manifest holds no xattrs: the base's are taken as none (this base has none), and the plans agree.
    expect(planOf(byManifest.stdout)).toEqual(planOf(byRoot.stdout));

    // The image booted: its shipped manifest is the generation, and the dry run plans what preview said.
    expect(so('unmount', 'opt')).toMatchObject({ code: 0 });
    await run('cp', ['-a', '--', `${path.join(next, 'opt')}/.`, path.join(root, 'opt')]);
    fs.mkdirSync(path.join(root, 'usr/lib/state-overlay'), { recursive: true });
    fs.copyFileSync(manifest, path.join(root, 'usr/lib/state-overlay/opt.manifest'));
    const dry = so('--json', 'reconcile', 'opt', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(planOf(byRoot.stdout)).toEqual(planOf(dry.stdout));
  });

  it('--fail-on: exit 150 when the plan does what is named, 0 otherwise; the report is printed either way', async () => {
    const next = await mountedWithStaged();
    const failed = so('preview', 'opt', '--base', path.join(next, 'opt'), '--fail-on', 'drop,conflict');
    expect(failed.code).toBe(150);
    expect(failed.stdout).toMatch(/^opt: next boot with .*: 2 local changes will be dropped/);
    expect(failed.stderr).toBe('state-overlay: preview opt: the plan would drop (--fail-on drop,conflict)\n');
    expect(so('preview', 'opt', '--base', path.join(next, 'opt'), '--fail-on', 'aside,conflict').code).toBe(0);
    // The base already reconciled: nothing to preview, nothing to fail on.
    const same = so('preview', 'opt', '--base', path.join(root, 'run/state-overlay/opt/base'), '--fail-on', 'drop');
    expect(same.stderr).toBe('');
    expect(same.stdout.split('\n')[0]).toMatch(/: the next base is the generation already reconciled: nothing changes$/);
    expect(same.code).toBe(0);
  });

  it('refuses bad arguments, and warns when the next boot would refuse the base', async () => {
    const next = await mountedWithStaged();
    expect(so('preview', 'opt')).toMatchObject({ code: 2, stderr: 'state-overlay: preview: give exactly one of --base DIR, --manifest FILE, --image-root DIR or --ostree-staged\n' });
    expect(so('preview', 'opt', '--base', next, '--image-root', next).code).toBe(2);
    expect(so('preview', 'opt', '--base', path.join(root, 'nosuch'))).toMatchObject({ code: 2, stderr: `state-overlay: --base ${path.join(root, 'nosuch')} does not exist\n` });
    expect(so('preview', 'opt', '--base', next, '--fail-on', 'everything')).toMatchObject({ code: 2, stderr: 'state-overlay: --fail-on everything: expected drop, sidecar, aside, conflict\n' });
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    const r = so('preview', 'opt', '--base', empty);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(new RegExp(`^warning: the next boot would refuse this base \\(a boot with --force goes on\\): base ${empty} is empty, but the recorded generation had \\d+ entries`));
  });
});
