// Directories and mounts compared as the kernel sees them, by device and inode: a path string names a
// directory only through one spelling (a symlinked --root, a bind of it, an escape), its identity does not.
import fs from 'node:fs';
import { ioError, StateOverlayError } from '../errors.js';
import type { MountEntry } from './mountinfo.js';

export interface FileId {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** stat(2) identity of p (symlinks followed), or undefined when nothing is there (ENOENT, ENOTDIR). */
export function fileId(p: string): FileId | undefined {
  try {
    const st = fs.statSync(p, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw ioError('cannot resolve', p, err);
  }
}

export const sameId = (a: FileId | undefined, b: FileId | undefined): boolean => a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;

/** `major:minor` of a device number, as mountinfo's third field shows it (glibc's dev_t encoding). */
export function devName(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}

/**
 * The directory a layer option (upperdir=, workdir=) names, with its identity. Kernels show the path as
 * it was given, escaped for the option parser (a backslash before ',', ':' or '\'), or plain: the
 * spelling that resolves is the one. A path that does not resolve here (another mount namespace's) names none.
 */
export function resolveLayer(shown: string | undefined): { readonly path: string; readonly id: FileId } | undefined {
  if (shown === undefined || !shown.startsWith('/')) return undefined;
  const plain = shown.replace(/\\(.)/g, '$1');
  for (const p of plain === shown ? [shown] : [shown, plain]) {
    const id = foreignId(p);
    if (id !== undefined) return { path: p, id };
  }
  return undefined;
}

/**
 * fileId of a path another mount names: one that fails to resolve (a dead network mount, a FUSE
 * mount root may not enter) cannot be identified as ours, and must not fail the commands of every
 * overlay on the host. Our own directories are resolved by fileId, which fails loudly.
 */
function foreignId(p: string): FileId | undefined {
  try {
    return fileId(p);
  } catch (err) {
    const errno = ((err as StateOverlayError).cause as NodeJS.ErrnoException | undefined)?.code;
    if (err instanceof StateOverlayError && typeof errno === 'string') return undefined;
    throw err;
  }
}

export const layerId = (shown: string | undefined): FileId | undefined => resolveLayer(shown)?.id;

/** Whether a mount's layer option names the directory with this identity. */
export const layerIs = (e: MountEntry, option: 'upperdir' | 'workdir', id: FileId | undefined): boolean =>
  id !== undefined && e.fstype === 'overlay' && sameId(layerId(e.superOptions.get(option)), id);

/**
 * The overlay whose root the directory dir shows, by identity: an overlay's device is its own, so dir
 * shows that overlay's root when dir and the overlay's mountpoint are one directory of that device (by
 * mountpoint string first, else by inode). Undefined when dir shows something else: nothing mounted, a
 * mount of another kind, a directory inside an overlay mounted above it, or an overlay covered by another.
 */
export function overlayShownAt(entries: readonly MountEntry[], dir: string): MountEntry | undefined {
  const id = fileId(dir);
  if (id === undefined) return undefined;
  const dev = devName(id.dev);
  const own = entries.filter((e) => e.fstype === 'overlay' && e.dev === dev);
  if (own.length === 0) return undefined;
  const real = fs.realpathSync(dir);
  return own.findLast((e) => e.mountpoint === real) ?? own.findLast((e) => sameId(fileId(e.mountpoint), id));
}
