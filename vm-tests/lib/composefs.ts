// A composefs-like root, as fedora-bootc and FCOS mount theirs: the image's tree as an erofs filesystem on
// a read-only disk, mounted by the initramfs under /run, and overlays over it as the root. The initramfs
// step is a second cpio archive appended to Debian's initrd (the kernel unpacks them in turn, later
// files win) holding initramfs-tools scripts and the two modules MODULES=most leaves out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { run } from '../../src/exec.js';
import type { RootDisk } from './image.js';

/** The erofs filesystem's UUID: the kernel command line names the root by it (mkfs.erofs 1.5 writes no label). */
export const EROFS_UUID = '50ae2c00-5e7e-4f60-a1b2-c3d4e5f60718';

/** The root arguments of the kernel command line: initramfs-tools mounts the erofs disk on its rootmnt first. */
export const ROOT_ARGS = `root=UUID=${EROFS_UUID} rootfstype=erofs`;

/**
 * Where the initramfs mounts the layers. Under /run they survive switch_root (initramfs-tools moves /run
 * into the new root), as composefs keeps its erofs reachable; klibc's run-init refuses to switch root at
 * all while anything else is still mounted on the initramfs ("nuking initramfs contents: Directory not empty").
 */
export const LAYERS_DIR = '/run/composefs';

/** The tree as an uncompressed erofs image (compression would need lz4 in the initramfs too). */
export const erofsRoot: RootDisk = async (tree, image) => {
  fs.rmSync(image, { force: true });
  await run('mkfs.erofs', ['--quiet', `-U${EROFS_UUID}`, image, tree]);
};

/** Where the appended archive puts the modules: the initrd's modules.dep does not know them, so they are loaded by path. */
const MODULE_DIR = 'usr/lib/composefs-root';
/** The modules the root needs that the initrd lacks, from the kernel's tree (erofs needs libcrc32c, which the initrd has). */
const MODULES = ['kernel/fs/erofs/erofs.ko', 'kernel/fs/overlayfs/overlay.ko'] as const;

/** local-premount: before local_mount_root mounts the erofs root. */
const PREMOUNT = `#!/bin/sh
# Loads erofs and overlayfs, which the initrd's MODULES=most leaves out, before the erofs root is mounted.
case $1 in prereqs) exit 0 ;; esac
. /scripts/functions
modprobe libcrc32c || panic "composefs-root: modprobe libcrc32c failed"
for m in ${MODULES.map((m) => path.basename(m)).join(' ')}; do
  insmod /${MODULE_DIR}/$m || panic "composefs-root: insmod /${MODULE_DIR}/$m failed"
done
`;

/**
 * local-bottom, once the erofs is on \${rootmnt}: it moves to LAYERS_DIR/erofs, an overlay over it is mounted
 * on LAYERS_DIR/lower and an overlay over that on \${rootmnt}, so the root is two overlays deep. An overlay
 * without an upper takes at least two lowers (6.1): each has an empty directory of the tmpfs as its second.
 * DETACH unmounts the two layers lazily afterwards: the root keeps them, but their paths show empty directories.
 */
export const rootScript = (detach: boolean): string => `#!/bin/sh
# The root the composefs way: erofs read-only under ${LAYERS_DIR}, overlays over it as the root, two deep.
case $1 in prereqs) exit 0 ;; esac
. /scripts/functions
L=${LAYERS_DIR}
mkdir -p $L/erofs $L/lower $L/empty-lower $L/empty-root || panic "composefs-root: mkdir under $L failed"
mount -n -o move "\${rootmnt}" $L/erofs || panic "composefs-root: cannot move the erofs root to $L/erofs"
mount -n -r -t overlay -o lowerdir=$L/erofs:$L/empty-lower composefs-lower $L/lower || panic "composefs-root: cannot mount the overlay on $L/lower"
mount -n -r -t overlay -o lowerdir=$L/lower:$L/empty-root composefs "\${rootmnt}" || panic "composefs-root: cannot mount the root overlay on \${rootmnt}"
${detach ? '# detached: out of reach of anything after switch_root\numount -l $L/lower && umount -l $L/erofs || panic "composefs-root: cannot detach the layers"\n' : ''}`;

/** An initramfs-tools ORDER file (empty: none yet) with SCRIPT run last, each script followed by the line re-reading param.conf as mkinitramfs writes it. */
export function orderWith(order: string, script: string): string {
  const head = order === '' || order.endsWith('\n') ? order : `${order}\n`;
  return `${head}${script} "$@"\n[ -e /conf/param.conf ] && . /conf/param.conf\n`;
}

/** A gzip-compressed initrd, decompressed into the file PLAIN (a newc archive). */
function gunzipInitrd(initrd: string, plain: string): void {
  const data = fs.readFileSync(initrd);
  if (data[0] !== 0x1f || data[1] !== 0x8b) throw new Error(`${initrd}: expected a gzip-compressed initramfs (initramfs-tools' COMPRESS=gzip)`);
  fs.writeFileSync(plain, zlib.gunzipSync(data));
}

/** The file FILE of the newc archive ARCHIVE ('': not in it). */
export async function cpioFile(archive: string, file: string): Promise<string> {
  const r = await run('cpio', ['-i', '--quiet', '--to-stdout', '-F', archive, file]);
  return r.stdout === '' ? '' : `${r.stdout}\n`;
}

/** Writes DIR's tree as a gzip-compressed newc archive owned by root (the initramfs's own format). */
export async function cpioOf(dir: string, archive: string): Promise<void> {
  const entries: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      entries.push(r);
      if (d.isDirectory()) walk(r);
    }
  };
  walk('');
  const plain = `${archive}.cpio`;
  await run('cpio', ['-o', '--quiet', '-H', 'newc', '-R', '0:0', '--reproducible', '-D', dir, '-F', plain], { input: `${entries.join('\n')}\n` });
  fs.writeFileSync(archive, zlib.gzipSync(fs.readFileSync(plain)));
  fs.rmSync(plain);
}

/**
 * The initrd of STAGE (its /boot) with the composefs step appended, written to OUT: the modules from
 * STAGE's kernel tree, the premount script and the root script (rootScript(DETACH)), each added to its ORDER.
 */
export async function composefsInitrd(stage: string, out: string, detach: boolean): Promise<void> {
  const kernel = fs.readdirSync(path.join(stage, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  if (kernel === undefined) throw new Error(`${stage}/boot: no vmlinuz-*`);
  const version = kernel.slice('vmlinuz-'.length);
  const initrd = path.join(stage, 'boot', `initrd.img-${version}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-composefs-'));
  try {
    const plain = path.join(tmp, 'initrd.cpio');
    gunzipInitrd(initrd, plain);
    const tree = path.join(tmp, 'tree');
    const add = (file: string, data: string | Buffer, mode: number) => {
      fs.mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
      fs.writeFileSync(path.join(tree, file), data, { mode });
    };
    for (const m of MODULES) add(path.join(MODULE_DIR, path.basename(m)), fs.readFileSync(path.join(stage, 'usr/lib/modules', version, m)), 0o644);
    for (const [dir, name, script] of [['local-premount', 'composefs-modules', PREMOUNT], ['local-bottom', 'composefs-root', rootScript(detach)]] as const) {
      add(`scripts/${dir}/${name}`, script, 0o755);
      add(`scripts/${dir}/ORDER`, orderWith(await cpioFile(plain, `scripts/${dir}/ORDER`), `/scripts/${dir}/${name}`), 0o644);
    }
    const extra = path.join(tmp, 'composefs.cpio.gz');
    await cpioOf(tree, extra);
    fs.writeFileSync(out, Buffer.concat([fs.readFileSync(initrd), fs.readFileSync(extra)]));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
