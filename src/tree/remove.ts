// Removing an entry with everything below it through directory fds (rm -rf without paths): any depth,
// past PATH_MAX too, never following a symlink (one is unlinked, as any other non-directory).
import fs from 'node:fs';
import path from 'node:path';
import { DIR_FLAGS, closeQuietly, fdPath } from './fsat.js';

interface Frame {
  /** The directory holding this one, and its name there (for the rmdir once it is empty). */
  readonly parent: number;
  readonly name: Buffer;
  readonly fd: number;
  readonly names: Buffer[];
}

function lstatOrAbsent(p: Buffer): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Removes the entry NAME of the directory dirFd and its subtree; absent already is success. Errors are
 * errno errors. Holds one fd per level below NAME: depth is bounded by RLIMIT_NOFILE, as for walk().
 */
export function removeAt(dirFd: number, name: Buffer): void {
  const st = lstatOrAbsent(fdPath(dirFd, name));
  if (st === undefined) return;
  if (!st.isDirectory()) return fs.unlinkSync(fdPath(dirFd, name));
  const stack: Frame[] = [];
  const enter = (parent: number, n: Buffer) => {
    const fd = fs.openSync(fdPath(parent, n), DIR_FLAGS);
    try {
      stack.push({ parent, name: n, fd, names: fs.readdirSync(fdPath(fd), { encoding: 'buffer' }) });
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  };
  try {
    enter(dirFd, name);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const child = top.names.pop();
      if (child === undefined) {
        stack.pop();
        closeQuietly(top.fd);
        fs.rmdirSync(fdPath(top.parent, top.name));
        continue;
      }
      const s = lstatOrAbsent(fdPath(top.fd, child));
      if (s?.isDirectory()) enter(top.fd, child);
      else if (s !== undefined) fs.unlinkSync(fdPath(top.fd, child));
    }
  } finally {
    for (const f of stack) closeQuietly(f.fd);
  }
}

/** removeAt for a path (its last component never followed); a missing parent is success too. Errors are errno errors. */
export function removeTree(file: string): void {
  let parent: number;
  try {
    parent = fs.openSync(path.dirname(file), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    removeAt(parent, Buffer.from(path.basename(file)));
  } finally {
    closeQuietly(parent);
  }
}
