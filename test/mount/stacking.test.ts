// A root two overlays deep, as image-based hosts stack them: a state overlay over it would be three
// deep, which the kernel refuses with a bare EINVAL. The mount takes the root overlay's layers instead,
// with the same view; where that cannot be done, a clear error and nothing left mounted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { readMountinfo, topMountAt } from '../../src/mount/mountinfo.js';
import { MAX_STACK_DEPTH, splitLayers, stackDepth } from '../../src/mount/stacking.js';
import { cli } from './scratch.js';

let dir: string;
const at = (...p: string[]) => path.join(dir, ...p);
const mounts = () => readMountinfo().filter((m) => m.mountpoint.startsWith(dir + '/')).map((m) => m.mountpoint);

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'so-stack-')));
});
afterEach(async () => {
  for (let i = 0; i < 20 && mounts().length > 0; i++) await tryRun('umount', ['-l', mounts().at(-1)!]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (p: string, text: string) => {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
};
const overlay = (target: string, options: string) => run('mount', ['-t', 'overlay', 'overlay', '-o', options, target]);

/** type and content of every entry below d, by relative path: what a reader of the merged view sees. */
function view(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  const go = (rel: string) => {
    for (const name of fs.readdirSync(path.join(d, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(path.join(d, r));
      if (st.isDirectory()) {
        out[r] = `dir ${(st.mode & 0o7777).toString(8)}`;
        go(r);
      } else out[r] = st.isSymbolicLink() ? `link ${fs.readlinkSync(path.join(d, r))}` : `file ${fs.readFileSync(path.join(d, r), 'utf8')}`;
    }
  };
  go('');
  return out;
}

/**
 * The image (l0), an overlay over it (m1, with a file of its own), and the root: an overlay over m1 (m2),
 * changed through its merged view so that its upper holds a whiteout, an opaque directory and a new file
 * under /opt. /var is a plain filesystem of its own, as on such hosts.
 */
async function twoDeepRoot(): Promise<string> {
  for (const d of ['l0', 'u1', 'w1', 'm1', 'u2', 'w2', 'm2', 'var']) fs.mkdirSync(at(d));
  write(at('l0/opt/app/bin/tool'), 'tool v1\n');
  write(at('l0/opt/app/gone'), 'deleted in the root overlay\n');
  write(at('l0/opt/app/dir/old'), 'hidden by an opaque dir\n');
  write(at('l0/opt/app/share/doc'), 'doc\n');
  fs.symlinkSync('bin/tool', at('l0/opt/app/link'));
  for (const d of ['etc/state-overlay', 'var', 'run']) fs.mkdirSync(at('l0', d), { recursive: true });
  await overlay(at('m1'), `lowerdir=${at('l0')},upperdir=${at('u1')},workdir=${at('w1')}`);
  write(at('m1/opt/app/from-m1'), 'written in the middle layer\n');
  await overlay(at('m2'), `lowerdir=${at('m1')},upperdir=${at('u2')},workdir=${at('w2')}`);
  fs.rmSync(at('m2/opt/app/gone'));
  fs.rmSync(at('m2/opt/app/dir'), { recursive: true });
  write(at('m2/opt/app/dir/new'), 'in the opaque dir\n');
  write(at('m2/opt/app/added'), 'added in the root overlay\n');
  fs.mkdirSync(at('m2/var'), { recursive: true });
  await run('mount', ['--bind', at('var'), at('m2/var')]);
  return at('m2');
}

describe('the stacking depth', () => {
  it('is 0 on a plain filesystem, and one more than the deepest layer for an overlay', async () => {
    const root = await twoDeepRoot();
    const entries = readMountinfo();
    expect(stackDepth(entries, at('l0'))).toBe(0);
    expect(stackDepth(entries, at('m1/opt'))).toBe(1);
    expect(stackDepth(entries, path.join(root, 'opt'))).toBe(MAX_STACK_DEPTH);
    expect(stackDepth(entries, path.join(root, 'var'))).toBe(0);
  });

  it('reads layer lists as mountinfo shows them: ":" between layers, "::" before data-only ones, "\\:" in a name', () => {
    expect(splitLayers('/a:/b')).toEqual({ layers: ['/a', '/b'], dataOnly: [] });
    expect(splitLayers('/a:/b::/c:/d')).toEqual({ layers: ['/a', '/b'], dataOnly: ['/c', '/d'] });
    expect(splitLayers('/x\\:y:/z')).toEqual({ layers: ['/x:y', '/z'], dataOnly: [] });
  });
});

describe('a state overlay over a root two overlays deep', () => {
  it('mounts over the root overlay\'s own layers, showing what the stacked view shows', async () => {
    const root = await twoDeepRoot();
    const stacked = view(path.join(root, 'opt'));
    expect(stacked['app/gone']).toBeUndefined();
    expect(Object.keys(stacked).filter((p) => p.startsWith('app/dir/'))).toEqual(['app/dir/new']);
    // What the mount would be without the flattening: the kernel's refusal, for the record.
    fs.mkdirSync(at('probe-u'));
    fs.mkdirSync(at('probe-w'));
    fs.mkdirSync(at('probe'));
    expect((await tryRun('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${root}/opt,upperdir=${at('probe-u')},workdir=${at('probe-w')}`, at('probe')])).exitCode).not.toBe(0);

    const r = await cli(root, ['run', 'opt']);
    expect(r.exitCode, r.stderr).toBe(0);
    const done = r.stderr.split('\n').filter((l) => l.includes('"mount.done"')).map((l) => JSON.parse(l) as { flattened?: { lowers: string[] } });
    expect(done[0]!.flattened!.lowers).toEqual([at('u2/opt'), at('m1/opt')]);
    const top = topMountAt(readMountinfo(), path.join(root, 'opt'))!;
    expect(top.fstype).toBe('overlay');
    expect(top.superOptions.get('lowerdir')).toBe(`${at('u2/opt')}:${at('m1/opt')}`);
    expect(view(path.join(root, 'opt'))).toEqual(stacked);
    // Writes land in the state overlay's upper, as always.
    fs.writeFileSync(path.join(root, 'opt/app/bin/tool'), 'my tool\n');
    expect(fs.readFileSync(at('var/lib/state-overlay/opt/upper/app/bin/tool'), 'utf8')).toBe('my tool\n');
    expect(fs.readFileSync(at('l0/opt/app/bin/tool'), 'utf8')).toBe('tool v1\n');
    const u = await cli(root, ['-q', 'unmount', 'opt']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(view(path.join(root, 'opt'))).toEqual(stacked);
  });

  it('refuses a root whose layer was unmounted since (its path shows the directory below), naming what the view would lose, and leaves nothing mounted', async () => {
    for (const d of ['img', 'pad', 'extra-src/opt/other', 'extra', 'm1', 'root', 'var', 'run']) fs.mkdirSync(at(d), { recursive: true });
    write(at('img/opt/app/tool'), 'v1\n');
    for (const d of ['etc/state-overlay', 'var', 'run']) fs.mkdirSync(at('img', d), { recursive: true });
    write(at('extra-src/opt/other/file'), 'shipped by the layer that goes\n');
    // The root two deep: over an overlay of the image and over a layer that is a mount of its own.
    await overlay(at('m1'), `lowerdir=${at('img')}:${at('pad')}`);
    await run('mount', ['--bind', at('extra-src'), at('extra')]);
    await overlay(at('root'), `lowerdir=${at('m1')}:${at('extra')}`);
    await run('mount', ['--bind', at('var'), at('root/var')]);
    await run('mount', ['--bind', at('run'), at('root/run')]);
    // The root keeps its layer; the layer's path now shows the empty directory it was mounted on.
    await run('umount', ['-l', at('extra')]);
    expect(fs.readdirSync(at('root/opt')).sort()).toEqual(['app', 'other']);
    const before = mounts();
    const r = await cli(at('root'), ['run', 'opt']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`state-overlay: cannot mount an overlay over ${at('root/opt')}: it lies on the overlay mounted on ${at('root')}, 2 overlays deep, and overlayfs stacks at most 2 (FILESYSTEM_MAX_STACK_DEPTH); its layers at opt do not show other, which ${at('root/opt')} shows (a layer unmounted or replaced since that overlay was mounted): set Base= to a directory on a plain filesystem`);
    expect(mounts()).toEqual(before);
    expect(fs.existsSync(at('var/lib/state-overlay/opt/upper'))).toBe(false);
  });

  it('explains a kernel refusal over a root whose layers are all out of sight: counted "at least" deep, naming what its layers no longer show', async () => {
    for (const d of ['img', 'pad', 'm1', 'root', 'var', 'run']) fs.mkdirSync(at(d));
    write(at('img/opt/app/tool'), 'v1\n');
    for (const d of ['etc/state-overlay', 'var', 'run']) fs.mkdirSync(at('img', d), { recursive: true });
    await overlay(at('m1'), `lowerdir=${at('img')}:${at('pad')}`);
    await overlay(at('root'), `lowerdir=${at('m1')}:${at('pad')}`);
    await run('mount', ['--bind', at('var'), at('root/var')]);
    await run('mount', ['--bind', at('run'), at('root/run')]);
    // The root keeps its layer; its path now shows the empty directory below: the root looks 1 deep.
    await run('umount', ['-l', at('m1')]);
    expect(stackDepth(readMountinfo(), at('root/opt'))).toBe(1);
    const before = mounts();
    const r = await cli(at('root'), ['run', 'opt']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`state-overlay: cannot mount the overlay on ${at('root/opt')}: `);
    expect(r.stderr).toContain(`(the base lies on the overlay mounted on ${at('root')}, at least 1 overlay deep: its layers at opt do not show app, which the base shows, so a layer was unmounted or replaced since that overlay was mounted and the kernel counts it deeper; overlayfs stacks at most 2: if dmesg says "maximum fs stacking depth exceeded", set Base= to a directory on a plain filesystem)`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(mounts()).toEqual(before);
  });

  it('refuses a root whose layers are metadata over data-only layers (composefs), saying what to configure, and leaves nothing mounted', async () => {
    for (const d of ['img', 'pad', 'objects', 'root', 'var', 'run']) fs.mkdirSync(at(d));
    write(at('img/opt/app/tool'), 'v1\n');
    for (const d of ['etc/state-overlay', 'var', 'run']) fs.mkdirSync(at('img', d), { recursive: true });
    fs.mkdirSync(at('m1'));
    // Read-only overlays (no upper) take two lowers at least.
    await overlay(at('m1'), `lowerdir=${at('img')}:${at('pad')}`);
    await overlay(at('root'), `lowerdir=${at('m1')}:${at('pad')}::${at('objects')}`);
    // A read-only root: /var and /run are filesystems of their own.
    await run('mount', ['--bind', at('var'), at('root/var')]);
    await run('mount', ['--bind', at('run'), at('root/run')]);
    const before = mounts();
    const r = await cli(at('root'), ['run', 'opt']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`state-overlay: cannot mount an overlay over ${at('root/opt')}: it lies on the overlay mounted on ${at('root')}, 2 overlays deep, and overlayfs stacks at most 2 (FILESYSTEM_MAX_STACK_DEPTH); its files are metadata over data-only layers (composefs), which only that overlay can resolve: set Base= to a directory on a plain filesystem`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(mounts()).toEqual(before);
    // Refused with the other checks of the mount table, before anything is made.
    expect(fs.existsSync(at('var/lib/state-overlay/opt/upper'))).toBe(false);
  });
});
