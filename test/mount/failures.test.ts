// Every refusal of DESIGN section 5: a clear error, and nothing left mounted by us.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { BIN } from '../hardening/harness.js';
import { mountOverlay } from '../../src/mount/overlay.js';
import { makeScratch, type Scratch } from './scratch.js';

let s: Scratch;
beforeEach(() => {
  s = makeScratch();
});
afterEach(async () => {
  await s.cleanup();
});

interface Case {
  readonly what: string;
  /** Prepares the tree; returns the mounts the test itself made (they stay), and mount options. */
  readonly setup: (s: Scratch) => Promise<{ procFilesystems?: string }> | { procFilesystems?: string };
  readonly code: string;
  readonly message: (root: string) => string;
}

const STATE = 'var/lib/state-overlay/opt';

const cases: Case[] = [
  {
    what: 'no overlay support in the kernel',
    setup: (s) => ({ procFilesystems: s.write('fake/filesystems', 'nodev\tsysfs\n\text4\n') }),
    code: 'unsupported',
    message: (r) => `the kernel has no overlay filesystem (${r}/fake/filesystems does not list overlay, and 'modprobe overlay' did not add it)`,
  },
  {
    what: 'mountpoint missing',
    setup: (s) => (fs.rmSync(path.join(s.root, 'opt'), { recursive: true }), {}),
    code: 'usage',
    message: (r) => `mountpoint ${r}/opt does not exist`,
  },
  {
    what: 'mountpoint not a directory',
    setup: (s) => (fs.rmSync(path.join(s.root, 'opt'), { recursive: true }), s.write('opt', 'file'), {}),
    code: 'usage',
    message: (r) => `mountpoint ${r}/opt is not a directory`,
  },
  {
    what: 'mountpoint a symlink',
    setup: (s) => (fs.rmSync(path.join(s.root, 'opt'), { recursive: true }), fs.mkdirSync(path.join(s.root, 'elsewhere')), fs.symlinkSync('elsewhere', path.join(s.root, 'opt')), {}),
    code: 'unsafe',
    message: (r) => `mountpoint ${r}/opt is a symlink, not a directory`,
  },
  {
    what: 'base missing',
    setup: (s) => (s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/usr/lib/opt\n'), {}),
    code: 'usage',
    message: (r) => `base ${r}/usr/lib/opt does not exist`,
  },
  {
    // Named directly, such a Base= is a config error (test/config); through a symlink only the resolved path tells.
    what: 'Base= inside the upper',
    setup: (s) => (s.write(`${STATE}/upper/sub/f`, 'x'), fs.symlinkSync(path.join(s.root, STATE, 'upper/sub'), path.join(s.root, 'srv-base')), s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/srv-base\n'), {}),
    code: 'usage',
    message: (r) => `base ${r}/${STATE}/upper/sub lies inside the upper directory ${r}/${STATE}/upper`,
  },
  {
    what: 'Base= inside the state directory',
    setup: (s) => (s.write(`${STATE}/manifests/f`, 'x'), fs.symlinkSync(path.join(s.root, STATE, 'manifests'), path.join(s.root, 'srv-base')), s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/srv-base\n'), {}),
    code: 'usage',
    message: (r) => `base ${r}/${STATE}/manifests lies inside the state directory ${r}/${STATE}`,
  },
  {
    what: 'Base= holding the state directory',
    setup: (s) => (fs.mkdirSync(path.join(s.root, 'var')), s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/var\n'), {}),
    code: 'usage',
    message: (r) => `base ${r}/var contains the upper directory ${r}/${STATE}/upper: the layers would overlap`,
  },
  {
    what: 'upper and work on different filesystems',
    setup: async (s) => {
      fs.mkdirSync(path.join(s.root, STATE, 'work'), { recursive: true });
      await run('mount', ['-t', 'tmpfs', 'test-work', path.join(s.root, STATE, 'work')]);
      return {};
    },
    code: 'unsupported',
    message: (r) => `upper ${r}/${STATE}/upper and work ${r}/${STATE}/work are on different filesystems: overlayfs needs both on one`,
  },
  {
    what: 'upper on overlayfs',
    setup: async (s) => {
      const d = path.join(s.root, 'ovl');
      for (const x of ['l', 'u', 'w']) fs.mkdirSync(path.join(d, x), { recursive: true });
      fs.mkdirSync(path.join(s.root, 'var/lib/state-overlay'), { recursive: true });
      await run('mount', ['-t', 'overlay', 'test-ovl', '-o', `lowerdir=${d}/l,upperdir=${d}/u,workdir=${d}/w`, path.join(s.root, 'var/lib/state-overlay')]);
      return {};
    },
    code: 'unsupported',
    message: (r) => `upper ${r}/${STATE}/upper is on an overlay filesystem, which cannot hold an overlay's upper layer`,
  },
  {
    what: 'an overlay that is not ours on the mountpoint',
    setup: async (s) => {
      const d = path.join(s.root, 'ovl');
      for (const x of ['l', 'u', 'w']) fs.mkdirSync(path.join(d, x), { recursive: true });
      await run('mount', ['-t', 'overlay', 'test-ovl', '-o', `lowerdir=${d}/l,upperdir=${d}/u,workdir=${d}/w`, path.join(s.root, 'opt')]);
      return {};
    },
    code: 'mounted',
    message: (r) => `${r}/opt already has an overlay that is not opt's (upperdir=${r}/ovl/u, source test-ovl): unmount it first`,
  },
  {
    what: 'an upper that is a symlink',
    setup: (s) => (fs.mkdirSync(path.join(s.root, STATE), { recursive: true, mode: 0o700 }), fs.symlinkSync('/', path.join(s.root, STATE, 'upper')), {}),
    code: 'unsafe',
    message: (r) => `${r}/${STATE}/upper is not a directory (a symlink): refusing to use it as the upper`,
  },
  {
    what: 'a symlink in the state path',
    setup: (s) => (fs.mkdirSync(path.join(s.root, 'var/lib/elsewhere'), { recursive: true }), fs.symlinkSync('elsewhere', path.join(s.root, 'var/lib/state-overlay')), {}),
    code: 'unsafe',
    message: (r) => `${r}/var/lib/state-overlay is a symlink: refusing to keep overlay state through it`,
  },
];

describe('mountOverlay refuses, leaving nothing mounted', () => {
  it.each(cases.map((c) => [c.what, c] as const))('%s', async (_, c) => {
    const opts = await c.setup(s);
    const before = s.mounts();
    const ov = s.ctx().overlay('opt');
    await expect(mountOverlay(ov, s.log, opts)).rejects.toMatchObject({ code: c.code, message: c.message(s.root) });
    expect(s.mounts()).toEqual(before);
  });

  it('unmounts its own bind when the kernel refuses the overlay itself', async () => {
    // An upper on a read-only mount passes every check but the kernel's: the bind is made, then undone.
    const state = path.join(s.root, STATE);
    for (const d of ['upper', 'work']) fs.mkdirSync(path.join(state, d), { recursive: true, mode: 0o700 });
    fs.chmodSync(path.join(state, 'upper'), fs.statSync(path.join(s.root, 'opt')).mode & 0o7777);
    await run('mount', ['--bind', state, state]);
    await run('mount', ['-o', 'remount,bind,ro', state]);
    const before = s.mounts();
    const ov = s.ctx().overlay('opt');
    const err = await mountOverlay(ov, s.log).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'io', path: `${s.root}/opt` });
    expect((err as Error).cause).toMatchObject({ code: 'EINVAL', syscall: 'mount' });
    expect((err as Error).message).toBe(`cannot mount the overlay on ${s.root}/opt: EINVAL (overlayfs logs its reason in the kernel log: dmesg)`);
    expect(s.mounts()).toEqual(before);
  });

  it.each([
    [2, 'make private'],
    [3, 'remount read-only'],
  ])('undoes the bind when step %i of it fails (%s), naming the step', async (n, step) => {
    // The n-th mount(2) of the CLI's one thread that mounts, failed by strace.
    const before = s.mounts();
    const ov = s.ctx().overlay('opt');
    const r = await tryRun('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=mount', '-e', `inject=mount:error=EIO:when=${n}`, process.execPath, BIN, '--root', s.root, 'mount', 'opt']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`cannot bind ${s.root}/opt read-only and private (${step}) at ${ov.layout.baseBind}: EIO`);
    expect(s.mounts()).toEqual(before);
  });
});
