import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { memoryLog } from '../../src/log/logger.js';
import { buildManifest } from '../../src/manifest/build.js';
import { commandGeneration, currentGeneration, manifestGeneration, shippedGeneration, treeGeneration, treeIdentity } from '../../src/observe/generation.js';
import { bootedOstreeChecksum, parseDeployPath, parseOstreeKarg } from '../../src/observe/ostree.js';
import { parseManifest } from '../../src/manifest/format.js';
import { manifestDigest, readRecords } from '../../src/manifest/store.js';
import { v1Bytes } from '../manifest/v1.js';
import { scratch } from '../tree/fixtures.js';
import { run } from '../../src/exec.js';

const SUM = '3f2a'.repeat(16);
const BOOTCSUM = '9c1e'.repeat(16);

describe('ostree parsing', () => {
  it.each([
    ['BOOT_IMAGE=(hd0,gpt2)/ostree/fedora-x/vmlinuz ostree=/ostree/boot.1/fedora/abc/0 rw', '/ostree/boot.1/fedora/abc/0'],
    ['root=UUID=1 ro quiet', undefined],
    ['ostree="/ostree/boot.0/os/x/1"\n', '/ostree/boot.0/os/x/1'],
    ['ostree=/a ostree=/b', '/b'],
    ['ostree= quiet', undefined],
    ['myostree=/x', undefined],
  ])('parseOstreeKarg(%j)', (cmdline, want) => {
    expect(parseOstreeKarg(cmdline)).toBe(want);
  });

  it.each([
    [`/ostree/deploy/fedora/deploy/${SUM}.0`, SUM],
    [`../../../deploy/fedora/deploy/${SUM}.12/`, SUM],
    [`/ostree/deploy/fedora/deploy/${SUM}`, undefined],
    [`/ostree/deploy/fedora/deploy/${SUM}.0/etc`, undefined],
    [`/ostree/deploy/fedora/deploy/${SUM.toUpperCase()}.0`, undefined],
  ])('parseDeployPath(%j)', (target, want) => {
    expect(parseDeployPath(target)).toBe(want);
  });
});

describe('generations', () => {
  let root: string;
  beforeEach(() => {
    root = scratch();
    fs.mkdirSync(path.join(root, 'opt/app'), { recursive: true });
    fs.writeFileSync(path.join(root, 'opt/app/bin'), 'v1');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const bootOstree = () => {
    fs.mkdirSync(path.join(root, 'run'), { recursive: true });
    fs.writeFileSync(path.join(root, 'run/ostree-booted'), '');
    fs.mkdirSync(path.join(root, 'proc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'proc/cmdline'), `BOOT_IMAGE=/vmlinuz ostree=/ostree/boot.1/fedora/${BOOTCSUM}/0 rw\n`);
    const bootDir = path.join(root, 'sysroot/ostree/boot.1.1/fedora', BOOTCSUM);
    fs.mkdirSync(bootDir, { recursive: true });
    fs.symlinkSync('boot.1.1', path.join(root, 'sysroot/ostree/boot.1'));
    fs.symlinkSync(`../../../deploy/fedora/deploy/${SUM}.0`, path.join(bootDir, '0'));
    fs.mkdirSync(path.join(root, `sysroot/ostree/deploy/fedora/deploy/${SUM}.0`), { recursive: true });
  };
  const overlay = (conf?: string) => {
    if (conf !== undefined) {
      fs.mkdirSync(path.join(root, 'etc/state-overlay'), { recursive: true });
      fs.writeFileSync(path.join(root, 'etc/state-overlay/opt.conf'), conf);
    }
    return createContext({ root }, memoryLog()).overlay('opt');
  };

  it('finds the booted deployment through the karg symlinks', () => {
    expect(bootedOstreeChecksum(root)).toBeUndefined();
    bootOstree();
    expect(bootedOstreeChecksum(root)).toBe(SUM);
  });

  it('a boot chain that cannot be read, other than absent, is an error naming the file', () => {
    bootOstree();
    const sysroot = path.join(root, 'sysroot');
    fs.renameSync(sysroot, path.join(root, 'sysroot.real'));
    fs.symlinkSync('sysroot', sysroot); // a loop: ELOOP, not ENOENT
    expect(() => bootedOstreeChecksum(root)).toThrow(`readlink ${sysroot}/ostree/boot.1/fedora/${BOOTCSUM}/0: ELOOP`);
    const cmdline = path.join(root, 'proc/cmdline');
    fs.rmSync(cmdline);
    expect(bootedOstreeChecksum(root)).toBeUndefined();
    fs.mkdirSync(cmdline);
    expect(() => bootedOstreeChecksum(root)).toThrow(`cannot read ${cmdline}: EISDIR`);
  });

  it('tree: moves with mtime, size, inode or names, never reads content', () => {
    const base = path.join(root, 'opt');
    const f = path.join(base, 'app/bin');
    fs.utimesSync(f, 1_700_000_000, 1_700_000_000);
    const g0 = treeGeneration(base);
    expect(g0).toMatch(/^tree:[0-9a-f]{64}$/);
    expect(treeGeneration(base)).toBe(g0);
    // Rewritten in place with the same size and mtime (a reproducible build): the ctime moved, so must the generation.
    fs.writeFileSync(f, 'v2');
    fs.utimesSync(f, 1_700_000_000, 1_700_000_000);
    expect(treeGeneration(base)).not.toBe(g0);
    fs.utimesSync(f, 1_700_000_000, 1_700_000_001);
    const g1 = treeGeneration(base);
    expect(g1).not.toBe(g0);
    fs.writeFileSync(path.join(base, 'new'), '');
    expect(treeGeneration(base)).not.toBe(g1);
  });

  it('tree: moves with a change of mode or owner alone, and with the filesystem the base is on', async () => {
    const base = path.join(root, 'opt');
    const f = path.join(base, 'app/bin');
    const seen = new Set([treeGeneration(base)]);
    fs.chmodSync(f, 0o4755); // a setuid bit added (or removed by a security update)
    seen.add(treeGeneration(base));
    fs.chownSync(f, 1, 1);
    seen.add(treeGeneration(base));
    expect(seen.size).toBe(3);
    // The same tree, byte for byte and stamp for stamp, on another filesystem (a second image of the same build).
    const other = path.join(root, 'other');
    fs.mkdirSync(other);
    await run('mount', ['-t', 'tmpfs', 'so-gen-test', other]);
    try {
      const copy = path.join(other, 'opt');
      await run('cp', ['-a', base, copy]);
      expect(treeGeneration(copy)).not.toBe(treeGeneration(base));
      expect(treeIdentity(copy)).not.toBe(treeIdentity(base));
      expect(treeIdentity(copy)).toBe('fs tmpfs source so-gen-test');
    } finally {
      await run('umount', [other]);
    }
  });

  it('tree: the same filesystem without a device keeps its generation when mounted again under another device number', async () => {
    // A virtio-fs share mounted by fstab at boot gets another anonymous device than mounted by hand; an
    // overlayfs of two lowers is such a filesystem that keeps its content from one mount to the next.
    const [lower1, lower2, merged, shift] = ['lower1', 'lower2', 'merged', 'shift'].map((d) => path.join(root, d)) as [string, string, string, string];
    for (const d of [lower1, lower2, merged, shift]) fs.mkdirSync(d);
    fs.cpSync(path.join(root, 'opt'), lower1, { recursive: true });
    fs.writeFileSync(path.join(lower2, 'top.txt'), 'top');
    const mountOnce = async () => {
      await run('mount', ['-t', 'overlay', '-o', `lowerdir=${lower2}:${lower1}`, 'so-gen-share', merged]);
      try {
        return { dev: fs.statSync(merged).dev, generation: treeGeneration(merged), identity: treeIdentity(merged) };
      } finally {
        await run('umount', [merged]);
      }
    };
    const first = await mountOnce();
    // the freed device number goes to this mount: the overlay's next mount gets another one
    await run('mount', ['-t', 'tmpfs', 'so-gen-shift', shift]);
    try {
      const second = await mountOnce();
      expect(second.dev).not.toBe(first.dev);
      expect(second.generation).toBe(first.generation);
      expect(second.identity).toBe('fs overlay source so-gen-share');
    } finally {
      await run('umount', [shift]);
    }
  });

  it('command: trimmed stdout, argv without a shell, errors naming the command', async () => {
    expect(await commandGeneration('/bin/echo  v42 ')).toBe('command:v42');
    expect(await commandGeneration('/bin/echo $HOME;x')).toBe('command:$HOME;x');
    await expect(commandGeneration('/bin/false')).rejects.toThrow('/bin/false: exit status 1');
    await expect(commandGeneration('/bin/printf a\\nb')).rejects.toThrow('/bin/printf a\\nb: expected one line naming the generation on stdout, got "a\\nb"');
    await expect(commandGeneration('/bin/true')).rejects.toThrow('/bin/true: expected one line naming the generation on stdout, got ""');
  });

  it('auto: the shipped manifest first, then ostree, then the tree', async () => {
    expect(await currentGeneration(overlay())).toEqual({ generation: treeGeneration(path.join(root, 'opt')), source: 'tree', entries: fs.readdirSync(path.join(root, 'opt'), { recursive: true }).length });
    bootOstree();
    expect(await currentGeneration(overlay())).toEqual({ generation: `ostree:${SUM}`, source: 'ostree' });
    const shipped = path.join(root, 'usr/lib/state-overlay/opt.manifest');
    await buildManifest(path.join(root, 'opt'), shipped);
    expect(await currentGeneration(overlay())).toEqual({ generation: `manifest:${manifestDigest(shipped)}`, source: 'manifest', shipped });
    expect(manifestGeneration(shipped)).toBe(`manifest:${manifestDigest(shipped)}`);
  });

  it.each([
    ['Generation=ostree', 'Generation=ostree: not booted on an ostree deployment (no /run/ostree-booted or ostree= karg)'],
    ['Generation=manifest', 'Generation=manifest: no shipped manifest at ROOT/usr/lib/state-overlay/opt.manifest'],
  ])('%s fails clearly when unavailable', async (line, message) => {
    await expect(currentGeneration(overlay(`[Overlay]\n${line}\n`))).rejects.toThrow(message.replace('ROOT', root));
  });

  /** The shipped manifest, written as a version 1 manifest (an image built by an older release). */
  const shipV1 = async (): Promise<string> => {
    const shipped = path.join(root, 'usr/lib/state-overlay/opt.manifest');
    await buildManifest(path.join(root, 'opt'), shipped);
    fs.writeFileSync(shipped, v1Bytes(parseManifest(fs.readFileSync(shipped))));
    return shipped;
  };

  it('a version 2 manifest: the digest its trailer records, never hashed, the kept copy never compared', async () => {
    const shipped = path.join(root, 'usr/lib/state-overlay/opt.manifest');
    await buildManifest(path.join(root, 'opt'), shipped);
    const bytes = fs.readFileSync(shipped);
    const recorded = `manifest:${bytes.toString('hex', bytes.length - 32)}`;
    expect(shippedGeneration(shipped)).toBe(recorded);
    expect(shippedGeneration(shipped, { generation: 'manifest:recorded', file: shipped })).toBe(recorded);
    // A changed record leaves the trailer as it was: the generation is what the manifest claims, and
    // reading it is refused.
    bytes[8 + 4 + 5]! ^= 1; // the first record's uid
    fs.writeFileSync(shipped, bytes);
    expect(shippedGeneration(shipped)).toBe(recorded);
    expect(() => [...readRecords(shipped, { sha256: recorded.slice('manifest:'.length) })]).toThrow(`${shipped}: digest: the trailer records`);
  });

  it('a version 1 manifest byte-identical to the kept copy of the recorded one keeps its generation, unhashed; any other is hashed', async () => {
    const shipped = await shipV1();
    const hashed = `manifest:${manifestDigest(shipped)}`;
    expect(hashed).toBe(`manifest:${crypto.createHash('sha256').update(fs.readFileSync(shipped)).digest('hex')}`);
    const kept = path.join(root, 'kept.manifest');
    fs.copyFileSync(shipped, kept);
    // A recorded generation that is not the copy's digest shows the comparison stood in for the hash.
    expect(shippedGeneration(shipped, { generation: 'manifest:recorded', file: kept })).toBe('manifest:recorded');
    expect(await currentGeneration(overlay(), { kept: { generation: 'manifest:recorded', file: kept } })).toMatchObject({ generation: 'manifest:recorded', source: 'manifest' });
    // One byte changed, same size (an updated digest): hashed.
    const bytes = fs.readFileSync(kept);
    bytes[bytes.length - 1]! ^= 1;
    fs.writeFileSync(kept, bytes);
    expect(shippedGeneration(shipped, { generation: 'manifest:recorded', file: kept })).toBe(hashed);
    // No copy, or a recorded generation of another source: hashed.
    expect(shippedGeneration(shipped, { generation: 'manifest:recorded', file: path.join(root, 'none') })).toBe(hashed);
    fs.copyFileSync(shipped, kept);
    expect(shippedGeneration(shipped, { generation: 'tree:recorded', file: kept })).toBe(hashed);
    expect(shippedGeneration(shipped)).toBe(hashed);
  });

  it('a kept copy that cannot be read is an error naming it, not a different manifest', async () => {
    const shipped = await shipV1();
    const kept = path.join(root, 'kept.manifest');
    fs.mkdirSync(kept); // reads fail with EISDIR, as a failing disk's would with EIO
    expect(() => shippedGeneration(shipped, { generation: 'manifest:recorded', file: kept })).toThrow(`read manifest ${kept}: EISDIR`);
    await expect(currentGeneration(overlay(), { kept: { generation: 'manifest:recorded', file: kept } })).rejects.toThrow(`read manifest ${kept}: EISDIR`);
  });

  it('Generation=command:… runs the command', async () => {
    expect(await currentGeneration(overlay('[Overlay]\nGeneration=command:/bin/echo build-7\n'))).toEqual({ generation: 'command:build-7', source: 'command' });
  });
});
