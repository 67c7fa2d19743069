// The VM suite's composefs-like root (11-composefs-root): the ORDER files initramfs-tools runs, the
// archive appended to an initrd (what the kernel unpacks after it), and the erofs root disk.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { EROFS_UUID, LAYERS_DIR, composefsInitrd, cpioFile, cpioOf, erofsRoot, orderWith, rootScript } from '../../../vm-tests/lib/composefs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-vm-composefs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PARAM = '[ -e /conf/param.conf ] && . /conf/param.conf\n';

function write(root: string, file: string, data: string | Buffer, mode = 0o644): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), data, { mode });
}

describe('orderWith', () => {
  it('an ORDER file that was not there runs the script alone, then re-reads param.conf', () => {
    expect(orderWith('', '/scripts/local-bottom/composefs-root')).toBe(`/scripts/local-bottom/composefs-root "$@"\n${PARAM}`);
  });

  it('runs the script after the ones mkinitramfs listed', () => {
    expect(orderWith(`/scripts/local-premount/resume "$@"\n${PARAM}`, '/scripts/local-premount/composefs-modules')).toBe(
      `/scripts/local-premount/resume "$@"\n${PARAM}/scripts/local-premount/composefs-modules "$@"\n${PARAM}`,
    );
  });

  it('a last line without its newline keeps its own line', () => {
    expect(orderWith('/scripts/x/a "$@"', '/scripts/x/b')).toBe(`/scripts/x/a "$@"\n/scripts/x/b "$@"\n${PARAM}`);
  });
});

describe('composefsInitrd', () => {
  const stage = path.join(dir, 'stage');
  const K = '6.1.0-99-amd64';
  const original = `/scripts/local-premount/resume "$@"\n${PARAM}`;

  it('appends an archive with the modules, both scripts and their ORDER files to the initrd as it was', async () => {
    write(stage, `boot/vmlinuz-${K}`, 'kernel');
    const initrdTree = path.join(dir, 'initrd-tree');
    write(initrdTree, 'scripts/local-premount/ORDER', original);
    write(initrdTree, 'scripts/local-premount/resume', '#!/bin/sh\n', 0o755);
    await cpioOf(initrdTree, path.join(stage, `boot/initrd.img-${K}`));
    write(stage, `usr/lib/modules/${K}/kernel/fs/erofs/erofs.ko`, 'erofs module');
    write(stage, `usr/lib/modules/${K}/kernel/fs/overlayfs/overlay.ko`, 'overlay module');

    const out = path.join(dir, 'initrd.img');
    await composefsInitrd(stage, out, false);
    const before = fs.readFileSync(path.join(stage, `boot/initrd.img-${K}`));
    const after = fs.readFileSync(out);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);

    // The appended archive alone, as the kernel unpacks it after the first.
    const extra = path.join(dir, 'extra.cpio');
    fs.writeFileSync(extra, zlib.gunzipSync(after.subarray(before.length)));
    const listing = execFileSync('cpio', ['-t', '-v', '--quiet', '-F', extra], { encoding: 'utf8' }).trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).at(-1)).sort();
    expect(names).toEqual([
      'scripts', 'scripts/local-bottom', 'scripts/local-bottom/ORDER', 'scripts/local-bottom/composefs-root',
      'scripts/local-premount', 'scripts/local-premount/ORDER', 'scripts/local-premount/composefs-modules',
      'usr', 'usr/lib', 'usr/lib/composefs-root', 'usr/lib/composefs-root/erofs.ko', 'usr/lib/composefs-root/overlay.ko',
    ]);
    // owned by root, the scripts executable
    for (const l of listing) expect(l.split(/\s+/).slice(2, 4)).toEqual(['root', 'root']);
    expect(listing.find((l) => l.endsWith('/composefs-root') && l.startsWith('-'))).toMatch(/^-rwxr-xr-x/);

    expect(await cpioFile(extra, 'scripts/local-premount/ORDER')).toBe(`${original}/scripts/local-premount/composefs-modules "$@"\n${PARAM}`);
    expect(await cpioFile(extra, 'scripts/local-bottom/ORDER')).toBe(`/scripts/local-bottom/composefs-root "$@"\n${PARAM}`);
    expect(await cpioFile(extra, 'usr/lib/composefs-root/erofs.ko')).toBe('erofs module\n');
    const root = await cpioFile(extra, 'scripts/local-bottom/composefs-root');
    expect(root).toContain(`L=${LAYERS_DIR}\n`);
    expect(root).toContain('lowerdir=$L/lower:$L/empty-root composefs "${rootmnt}"');
    expect(root).not.toContain('umount');
    // both scripts are valid sh
    for (const s of ['scripts/local-bottom/composefs-root', 'scripts/local-premount/composefs-modules']) {
      const f = path.join(dir, path.basename(s));
      fs.writeFileSync(f, await cpioFile(extra, s));
      execFileSync('sh', ['-n', f]);
    }
  });

  it('an initrd not gzip-compressed is named, with what was expected', async () => {
    const zstd = path.join(dir, 'zstd-stage');
    write(zstd, `boot/vmlinuz-${K}`, 'kernel');
    write(zstd, `boot/initrd.img-${K}`, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]));
    await expect(composefsInitrd(zstd, path.join(dir, 'x.img'), false)).rejects.toThrow(
      `${zstd}/boot/initrd.img-${K}: expected a gzip-compressed initramfs (initramfs-tools' COMPRESS=gzip)`,
    );
  });
});

describe('rootScript', () => {
  it('detaching unmounts both layers lazily once the root is mounted, and is valid sh', () => {
    const script = rootScript(true);
    expect(script.indexOf('umount -l $L/lower && umount -l $L/erofs')).toBeGreaterThan(script.indexOf('composefs "${rootmnt}"'));
    const f = path.join(dir, 'detached');
    fs.writeFileSync(f, script);
    execFileSync('sh', ['-n', f]);
  });
});

describe('erofsRoot', () => {
  it('makes an erofs filesystem of the tree that the kernel command line finds by its UUID', async () => {
    const tree = path.join(dir, 'root-tree');
    write(tree, 'opt/app/VERSION', '1');
    const image = path.join(dir, 'root.img');
    await erofsRoot(tree, image);
    const probe = execFileSync('blkid', ['-p', '-o', 'export', image], { encoding: 'utf8' });
    expect(probe).toContain('TYPE=erofs\n');
    expect(probe).toContain(`UUID=${EROFS_UUID}\n`);
    // a virtio disk's size: whole sectors
    expect(fs.statSync(image).size % 512).toBe(0);
  });
});
