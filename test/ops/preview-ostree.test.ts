// `preview --ostree-staged` against a real ostree sysroot: the tree committed and deployed by the ostree
// tool, and its staged-deployment record written by GLib's own GVariant serializer with the keys
// `ostree admin deploy --stage` writes (that command needs a booted deployment and systemd).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tryRun } from '../../src/exec.js';
import { parseStagedDeployment } from '../../src/observe/ostree.js';
import { cli } from '../cli/cli.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { commitTree, deploy, initSysroot, unlockDeployments } from './ostree-sysroot.js';
import { writeTree } from './scratch.js';

let root: string;
beforeEach(() => {
  root = scratch('so-preview-ostree-');
});
afterEach(async () => {
  await tryRun('umount', ['-R', path.join(root, 'opt')]);
  await tryRun('umount', ['-R', path.join(root, 'run/state-overlay/opt/base')]);
  await unlockDeployments(root);
  await removeTree(root);
});

const so = (...args: string[]) => cli(['--root', root, '-q', ...args]);

/** ostree's staged-deployment record (a{sv}), serialized by GLib itself through python3-gi. */
function stagedRecord(target: Record<string, string>): Buffer {
  const script = `
import json, sys
from gi.repository import GLib
t = json.loads(sys.argv[1])
v = GLib.Variant('a{sv}', {'target': GLib.Variant('a{sv}', {k: GLib.Variant('s', s) for k, s in t.items()}), 'kargs': GLib.Variant('as', ['root=UUID=x', 'rw'])})
sys.stdout.buffer.write(v.get_data_as_bytes().get_data())`;
  return execFileSync('/usr/bin/python3', ['-c', script, JSON.stringify(target)]);
}

/** root as an ostree sysroot holding a deployment of v2 (its /opt), with root/opt the booted v1. */
async function sysrootWithNext(): Promise<{ name: string; checksum: string }> {
  initSysroot(root);
  const checksum = await commitTree(root, 'debian/next', { 'opt/app/bin/tool': 'tool v2\n', 'opt/app/lib/lib.so': 'lib v1\n' });
  deploy(root, 'debian/next');
  await writeTree(path.join(root, 'opt'), { 'app/bin/tool': 'tool v1\n', 'app/lib/lib.so': 'lib v1\n' });
  expect(so('run', 'opt')).toMatchObject({ code: 0 });
  fs.writeFileSync(path.join(root, 'opt/app/bin/tool'), 'tool (local build)\n');
  fs.writeFileSync(path.join(root, 'opt/app/lib/lib.so'), 'lib patched\n');
  return { name: `${checksum}.0`, checksum };
}

describe('preview --ostree-staged', () => {
  it("plans against the staged deployment's root, as --image-root on it does", async () => {
    const { name, checksum } = await sysrootWithNext();
    fs.mkdirSync(path.join(root, 'run/ostree'), { recursive: true });
    fs.writeFileSync(path.join(root, 'run/ostree/staged-deployment'), stagedRecord({ name, osname: 'debian', bootcsum: 'f'.repeat(64) }));
    const staged = so('--json', 'preview', 'opt', '--ostree-staged');
    expect(staged.code, staged.stderr).toBe(0);
    const doc = JSON.parse(staged.stdout) as { to: string; source: { base: string }; actions: { kind: string; path: string; rule: number }[] };
    const deployment = path.join(root, 'ostree/deploy/debian/deploy', name);
    expect(doc.source.base).toBe(path.join(deployment, 'opt'));
    // No shipped manifest: that boot records the commit it runs.
    expect(doc.to).toBe(`ostree:${checksum}`);
    expect(doc.actions.filter((a) => a.kind !== 'keep').map((a) => [a.kind, a.path, a.rule])).toEqual([['move-to-backups', 'app/bin/tool', 3], ['remove-empty-dir', 'app/bin', 8]]);
    const byRoot = JSON.parse(so('--json', 'preview', 'opt', '--image-root', deployment).stdout) as { actions: unknown[] };
    expect(doc.actions).toEqual(byRoot.actions);
    const text = so('preview', 'opt', '--ostree-staged');
    expect(text.stdout.split('\n')[0]).toBe(`opt: next boot with ${path.join(deployment, 'opt')}: 1 local change will be dropped to backups`);
  });

  it('without a staged deployment: a usage error naming the record looked for', async () => {
    await sysrootWithNext();
    const r = so('preview', 'opt', '--ostree-staged');
    expect([r.code, r.stderr]).toEqual([2, `state-overlay: no staged ostree deployment: ${root}/run/ostree/staged-deployment does not exist (stage one with 'bootc upgrade' or 'ostree admin deploy --stage', or give --image-root)\n`]);
  });

  it('a record naming a deployment that is not there, or damaged, is refused naming the file', async () => {
    await sysrootWithNext();
    const file = path.join(root, 'run/ostree/staged-deployment');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, stagedRecord({ name: `${'a'.repeat(64)}.1`, osname: 'debian', bootcsum: 'x' }));
    expect(so('preview', 'opt', '--ostree-staged')).toMatchObject({ code: 1, stderr: `state-overlay: ${file} names the staged deployment ${root}/ostree/deploy/debian/deploy/${'a'.repeat(64)}.1, which does not exist\n` });
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    expect(so('preview', 'opt', '--ostree-staged').stderr).toMatch(new RegExp(`^state-overlay: ${file}: not ostree's staged deployment record`));
  });
});

describe('parseStagedDeployment', () => {
  it('reads the target as ostree writes it, refusing what ostree would not read back', () => {
    const csum = 'c'.repeat(64);
    expect(parseStagedDeployment(stagedRecord({ name: `${csum}.2`, osname: 'fedora', bootcsum: 'b' }), 'F')).toEqual({ osname: 'fedora', name: `${csum}.2`, checksum: csum });
    expect(() => parseStagedDeployment(stagedRecord({ osname: 'fedora', bootcsum: 'b' }), 'F')).toThrow('F: target.name: expected a string');
    expect(() => parseStagedDeployment(stagedRecord({ name: `${csum}.2`, osname: '..', bootcsum: 'b' }), 'F')).toThrow('F: target: expected a deployment CHECKSUM.SERIAL of a stateroot, got "../');
    expect(() => parseStagedDeployment(stagedRecord({ name: 'x.0', osname: 'fedora', bootcsum: 'b' }), 'F')).toThrow('F: target: expected a deployment');
  });
});
