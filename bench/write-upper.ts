// Writes a planned upper dir to disk: whiteouts as char 0:0 devices, opaque dirs with
// trusted.overlay.opaque=y, shadows with the base's content (variant 0) or an edit.
import fs from 'node:fs';
import path from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { execa } from 'execa';
import { writeContent } from './content.js';
import { at } from './write-base.js';
import type { UpperPlan } from './upper-plan.js';

/** ext4 allows 65000 links per inode; start a new whiteout device well before that. */
const LINKS_PER_DEVICE = 50_000;

/**
 * Node has no mknod(2): make one 0:0 device with mknod(1) and hard-link it to every whiteout
 * path, as the kernel itself shares one whiteout inode between whiteouts since Linux 5.8.
 */
async function whiteoutSource(dir: string, n: number): Promise<string> {
  const p = path.join(dir, `whiteout-${n}`);
  fs.rmSync(p, { force: true });
  await execa('mknod', [p, 'c', '0', '0']);
  return p;
}

function setOpaque(dir: Buffer): void {
  // fs-xattr takes string paths and follows symlinks: go through an fd opened without following.
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  try {
    setAttributeSync(`/proc/self/fd/${fd}`, 'trusted.overlay.opaque', 'y');
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `plan` into `root` (which must not exist); `scratch` is a dir on the same filesystem. */
export async function writeUpper(root: string, plan: UpperPlan, scratch: string): Promise<void> {
  const old = process.umask(0);
  let source = '';
  let links = 0;
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    fs.mkdirSync(scratch, { recursive: true });
    for (const e of plan.entries) {
      const p = at(root, e.path);
      switch (e.kind) {
        case 'dir':
        case 'opaque':
          fs.mkdirSync(p, { mode: e.mode });
          if (e.kind === 'opaque') setOpaque(p);
          break;
        case 'file':
          writeContent(p, e.path, e.size, e.variant, e.mode);
          break;
        case 'symlink':
          fs.symlinkSync(Buffer.from(e.target, 'latin1'), p);
          break;
        case 'whiteout':
          if (links % LINKS_PER_DEVICE === 0) source = await whiteoutSource(scratch, links / LINKS_PER_DEVICE);
          fs.linkSync(source, p);
          links++;
          break;
      }
      if (e.kind === 'symlink' || e.kind === 'whiteout') continue;
      if (e.uid !== 0 || e.gid !== 0) fs.chownSync(p, e.uid, e.gid);
      if (e.mode & 0o7000) fs.chmodSync(p, e.mode);
    }
  } finally {
    process.umask(old);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
