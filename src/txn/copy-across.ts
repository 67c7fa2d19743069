// Moving an entry to another filesystem (upper and backups apart): `cp -a` through an O_PATH handle,
// overlay xattrs copied by hand (cp leaves trusted.* behind), the copy verified before the source goes.
import fs from 'node:fs';
import { getAttributeSync, listAttributesSync, setAttributeSync } from 'fs-xattr';
import { StateOverlayError } from '../errors.js';
import { run } from '../exec.js';
import { fromBytes, type RelPath } from '../model/entry.js';
import { DIR_FLAGS, O_PATH, closeQuietly, components, fdPath } from '../tree/fsat.js';
import { digestEntry } from '../tree/handles.js';
import { walk } from '../tree/walk.js';
import { overlayXattrsAt } from '../tree/xattr.js';

/** Type, mode, owner, content and overlay xattrs of an entry and everything below it, for verifying a copy. */
function fingerprint(dirFd: number, name: Buffer): string[] {
  const line = (label: string, root: string, rel: RelPath, s: fs.Stats, dfd: number, n: Buffer) => {
    const x = s.isDirectory() || s.isFile() ? JSON.stringify(overlayXattrsAt(dfd, n)) : '';
    // A directory's size is the filesystem's business.
    return `${label}\0${s.mode}\0${s.uid}\0${s.gid}\0${s.isDirectory() ? '' : s.size}\0${digestEntry(root, rel, s)}\0${x}`;
  };
  const st = fs.lstatSync(fdPath(dirFd, name));
  const out = [line('', `/proc/self/fd/${dirFd}`, fromBytes(name), st, dirFd, name)];
  if (!st.isDirectory()) return out;
  const fd = fs.openSync(fdPath(dirFd, name), DIR_FLAGS);
  try {
    const root = `/proc/self/fd/${fd}`;
    for (const e of walk(root)) out.push(line(e.path, root, e.path, e.st, e.dirFd, e.name));
  } finally {
    closeQuietly(fd);
  }
  return out;
}

const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;

/** Copies the overlay.* xattrs (which cp leaves behind) of one entry, through O_PATH handles. */
function copyXattrsOf(src: Buffer, dst: Buffer): void {
  const s = fs.openSync(src, O_PATH | fs.constants.O_NOFOLLOW);
  const d = fs.openSync(dst, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    const [sp, dp] = [`/proc/self/fd/${s}`, `/proc/self/fd/${d}`];
    for (const n of listAttributesSync(sp)) if (OVERLAY_XATTR.test(n)) setAttributeSync(dp, n, getAttributeSync(sp, n));
  } finally {
    closeQuietly(s);
    closeQuietly(d);
  }
}

/** copyXattrsOf for an entry and every directory and file below it. */
function copyOverlayXattrs(sfd: number, name: Buffer, dfd: number, dstName: Buffer, isDir: boolean): void {
  copyXattrsOf(fdPath(sfd, name), fdPath(dfd, dstName));
  if (!isDir) return;
  const s = fs.openSync(fdPath(sfd, name), DIR_FLAGS);
  const d = fs.openSync(fdPath(dfd, dstName), DIR_FLAGS);
  try {
    for (const e of walk(`/proc/self/fd/${s}`)) {
      if (e.type !== 'dir' && e.type !== 'file') continue;
      const parts = components(e.path);
      const at = Buffer.concat([Buffer.from(`/proc/self/fd/${d}`), ...parts.flatMap((p) => [Buffer.from('/'), p])]);
      copyXattrsOf(fdPath(e.dirFd, e.name), at);
    }
  } finally {
    closeQuietly(s);
    closeQuietly(d);
  }
}

/** Cross-filesystem move: copy to a temp name (`cp -a`, symlinks by hand), verify, rename into place, remove the source. */
export async function copyAcross(sfd: number, name: Buffer, dfd: number, shown: string): Promise<void> {
  // An ASCII temp name: it goes on cp's command line.
  const tmp = Buffer.from('.state-overlay-copy');
  fs.rmSync(fdPath(dfd, tmp), { recursive: true, force: true });
  const st = fs.lstatSync(fdPath(sfd, name));
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(fdPath(sfd, name), { encoding: 'buffer' }), fdPath(dfd, tmp));
    fs.lchownSync(fdPath(dfd, tmp), st.uid, st.gid);
  } else {
    // cp runs in a child: it reaches the entry through an O_PATH handle in /proc/PID/fd (names stay bytes here).
    const src = fs.openSync(fdPath(sfd, name), O_PATH | fs.constants.O_NOFOLLOW);
    try {
      await run('cp', ['-a', '-H', '--no-target-directory', '--', `/proc/${process.pid}/fd/${src}`, `/proc/${process.pid}/fd/${dfd}/${tmp.toString('latin1')}`]);
    } finally {
      closeQuietly(src);
    }
    copyOverlayXattrs(sfd, name, dfd, tmp, st.isDirectory());
  }
  if (fingerprint(sfd, name).join('\n') !== fingerprint(dfd, tmp).join('\n')) {
    fs.rmSync(fdPath(dfd, tmp), { recursive: true, force: true });
    throw new StateOverlayError('io', `copy of ${shown} into backups on another filesystem does not match the original: left in place`);
  }
  fs.renameSync(fdPath(dfd, tmp), fdPath(dfd, name));
  fs.fsyncSync(dfd);
  fs.rmSync(fdPath(sfd, name), { recursive: true });
}
