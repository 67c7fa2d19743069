// Disk images without loop mounts: ext4 from a directory (`mke2fs -d`), and the raw "io" disk that
// carries a tar into the guest and the results back.
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../src/exec.js';

/** Bytes used by a tree, from `du` (apparent sizes would miss block overhead). */
async function usedBytes(dir: string): Promise<number> {
  const r = await run('du', ['-s', '--block-size=1', dir]);
  return Number(r.stdout.split('\t')[0]);
}

/** An ext4 image of DIR with room to spare: 1.5× its content plus `spareMiB`. */
export async function ext4FromDir(dir: string, image: string, label: string, spareMiB = 256): Promise<void> {
  const mib = Math.ceil(((await usedBytes(dir)) * 1.5) / 2 ** 20) + spareMiB;
  fs.rmSync(image, { force: true });
  // -E root_owner: keep the tree's owners; -N: enough inodes for generated bases with many small files
  const inodes = String(Math.max(65536, Math.ceil((await countEntries(dir)) * 2)));
  await run('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', label, '-N', inodes, '-d', dir, image, `${mib}M`]);
}

async function countEntries(dir: string): Promise<number> {
  const r = await run('find', [dir, '-xdev', '-printf', '.']);
  return r.stdout.length;
}

export const IO_DISK_BYTES = 64 * 2 ** 20;

/** Writes DIR as a tar at the start of a raw disk of IO_DISK_BYTES. */
export async function writeIoDisk(dir: string, image: string): Promise<void> {
  fs.rmSync(image, { force: true });
  await run('tar', ['--format=gnu', '-cf', image, '-C', dir, '.']);
  if (fs.statSync(image).size > IO_DISK_BYTES) throw new Error(`${dir}: phase input exceeds the ${IO_DISK_BYTES}-byte io disk`);
  fs.truncateSync(image, IO_DISK_BYTES);
}

/** Extracts the tar the guest wrote at the start of the io disk; false when it wrote none. */
export async function readIoDisk(image: string, into: string): Promise<boolean> {
  fs.mkdirSync(into, { recursive: true });
  const head = Buffer.alloc(512);
  const fd = fs.openSync(image, 'r');
  try {
    fs.readSync(fd, head, 0, 512, 0);
  } finally {
    fs.closeSync(fd);
  }
  // ustar magic at offset 257: the guest overwrote our input with its results
  if (head.subarray(257, 262).toString('latin1') !== 'ustar') return false;
  await run('tar', ['-xf', image, '-C', into]);
  return fs.existsSync(path.join(into, 'status'));
}

/**
 * Why an ext4 image was not left clean, or undefined: after a guest's orderly power-off its /var must be
 * unmounted (or remounted read-only) with the journal recovered, as `dumpe2fs -h` reads the superblock.
 */
export async function uncleanExt4(image: string): Promise<string | undefined> {
  const r = await run('dumpe2fs', ['-h', image]);
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '';
  const state = field('Filesystem state');
  const features = field('Filesystem features').split(/\s+/);
  if (state !== 'clean') return `filesystem state "${state}"`;
  if (features.includes('needs_recovery')) return 'its journal needs recovery';
  return undefined;
}
