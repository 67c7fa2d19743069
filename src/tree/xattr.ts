// Overlay xattrs (trusted.overlay.* and user.overlay.*) through fs-xattr on /proc/self/fd/N of an
// O_PATH|O_NOFOLLOW handle: the entry itself is read, never a symlink's target.
import fs from 'node:fs';
import { newSha256 } from '../hash.js';
import { getAttributeSync, listAttributesSync, removeAttributeSync, setAttributeSync } from 'fs-xattr';
import { ioError } from '../errors.js';
import { O_PATH, closeQuietly, fdPath } from './fsat.js';

export type XattrNamespace = 'trusted' | 'user';
export const NAMESPACES: readonly XattrNamespace[] = ['trusted', 'user'];
export type OverlayKey = 'opaque' | 'whiteout' | 'redirect' | 'metacopy';

export interface OverlayXattrs {
  /** Value of overlay.opaque ('y' opaque, 'x' holds xattr whiteouts; anything else as found). */
  readonly opaque?: string;
  readonly whiteout: boolean;
  readonly redirect?: Buffer;
  readonly metacopy: boolean;
  /** Namespaces in which any overlay.* attribute was found. */
  readonly namespaces: readonly XattrNamespace[];
  /** True when the entry has xattrs other than overlay's own (identityXattrsOfFd() reads them). */
  readonly others?: boolean;
}

/** overlay's own xattrs, in either namespace: how the overlay marks an entry, not part of the entry. */
export const isOverlayXattr = (name: string): boolean => name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');

const NONE: OverlayXattrs = Object.freeze({ whiteout: false, metacopy: false, namespaces: Object.freeze([]) as readonly XattrNamespace[] });
const ABSENT = new Set(['ENODATA', 'ENOTSUP', 'EOPNOTSUPP']);
const isAbsent = (err: unknown) => ABSENT.has((err as NodeJS.ErrnoException)?.code ?? '');

/** Overlay xattrs of an open fd (any kind, O_PATH included); trusted.* wins where both namespaces set a key. */
export function overlayXattrsOfFd(fd: number, namespaces: readonly XattrNamespace[] = NAMESPACES): OverlayXattrs {
  const p = `/proc/self/fd/${fd}`;
  let names: string[];
  try {
    names = listAttributesSync(p);
  } catch (err) {
    if (isAbsent(err)) return NONE;
    throw err;
  }
  const settled = overlayXattrsFromNames(names, namespaces);
  if (settled !== undefined) return settled;
  const others = names.some((n) => !isOverlayXattr(n));
  const found = new Map<OverlayKey, Buffer>();
  const spaces: XattrNamespace[] = [];
  for (const ns of [...namespaces].reverse()) {
    const prefix = `${ns}.overlay.`;
    for (const n of names) {
      if (!n.startsWith(prefix)) continue;
      const key = n.slice(prefix.length);
      if (!spaces.includes(ns)) spaces.push(ns);
      if (key !== 'opaque' && key !== 'whiteout' && key !== 'redirect' && key !== 'metacopy') continue;
      try {
        found.set(key, getAttributeSync(p, n));
      } catch (err) {
        if (!isAbsent(err)) throw err;
      }
    }
  }
  const opaque = found.get('opaque');
  const redirect = found.get('redirect');
  return {
    ...(opaque === undefined ? {} : { opaque: opaque.toString('latin1') }),
    whiteout: found.has('whiteout'),
    ...(redirect === undefined ? {} : { redirect }),
    metacopy: found.has('metacopy'),
    namespaces: spaces.reverse(),
    ...(others ? { others } : {}),
  };
}

/**
 * Overlay xattrs from an entry's xattr names alone, where they settle it: no overlay.* name in any of
 * `namespaces` (none, or only others). undefined when there are some: their values must be read.
 */
export function overlayXattrsFromNames(names: readonly string[], namespaces: readonly XattrNamespace[] = NAMESPACES): OverlayXattrs | undefined {
  if (namespaces.some((ns) => names.some((n) => n.startsWith(`${ns}.overlay.`)))) return undefined;
  return names.some((n) => !isOverlayXattr(n)) ? { ...NONE, others: true } : NONE;
}

/** Overlay xattrs of the entry NAME in the directory dirFd (see walk()'s WalkEntry.dirFd). */
export function overlayXattrsAt(dirFd: number, name: Buffer, namespaces?: readonly XattrNamespace[]): OverlayXattrs {
  return overlayXattrsOfEntry(fdPath(dirFd, name), namespaces);
}

/** Overlay xattrs of the entry at `/proc/self/fd/DIRFD/NAME` (the entry itself, never a symlink's target). */
export function overlayXattrsOfEntry(fdName: Buffer, namespaces?: readonly XattrNamespace[]): OverlayXattrs {
  const fd = fs.openSync(fdName, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    return overlayXattrsOfFd(fd, namespaces);
  } finally {
    closeQuietly(fd);
  }
}

/** Overlay xattrs of a path (its last component not followed). */
export function overlayXattrs(file: string, namespaces?: readonly XattrNamespace[]): OverlayXattrs {
  let fd: number;
  try {
    fd = fs.openSync(file, O_PATH | fs.constants.O_NOFOLLOW);
  } catch (err) {
    throw ioError('open', file, err);
  }
  try {
    return overlayXattrsOfFd(fd, namespaces);
  } catch (err) {
    throw ioError('read xattrs of', file, err);
  } finally {
    closeQuietly(fd);
  }
}

/** Every xattr of an entry, any namespace (ACLs, capabilities, trusted.* …), sorted by name. */
export type AllXattrs = ReadonlyArray<readonly [string, Buffer]>;

/** Every xattr of an open fd (any kind, O_PATH included: the entry itself). `where` names it in errors. */
export function allXattrsOfFd(fd: number, where: string): AllXattrs {
  const p = `/proc/self/fd/${fd}`;
  let names: string[];
  try {
    names = listAttributesSync(p);
  } catch (err) {
    if (isAbsent(err)) return [];
    throw ioError('list xattrs of', where, err);
  }
  return names.sort().map((n) => {
    try {
      return [n, getAttributeSync(p, n)] as const;
    } catch (err) {
      throw ioError(`read xattr ${n} of`, where, err);
    }
  });
}

/**
 * The identity of an entry's xattrs other than overlay's own (user.*, ACLs, capabilities, the SELinux
 * label, trusted.*): sha256 hex over the sorted (name, value) pairs, '' when it has none. Two entries
 * are the same entry only with the same identity: a copy-up the host gave an ACL is not a redundant one.
 */
export function identityXattrsOfFd(fd: number, where: string): string {
  const own = allXattrsOfFd(fd, where).filter(([n]) => !isOverlayXattr(n));
  if (own.length === 0) return '';
  const h = newSha256();
  const len = Buffer.alloc(4);
  for (const [n, v] of own) {
    // Length-prefixed, so that no two different sets of pairs hash the same bytes.
    h.update(n, 'latin1').update('\0');
    len.writeUInt32BE(v.length);
    h.update(len).update(v);
  }
  return h.digest('hex');
}

/** identityXattrsOfFd() of the entry at `/proc/self/fd/DIRFD/NAME` (the entry itself, never a symlink's target). */
export function identityXattrsOfEntry(fdName: Buffer, where: string): string {
  const fd = fs.openSync(fdName, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    return identityXattrsOfFd(fd, where);
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Gives the entry of an open fd exactly the xattrs `want`: any other (an ACL inherited from its new
 * parent, say) is removed first, except the SELinux label, which policy assigns.
 */
export function setAllXattrsOfFd(fd: number, want: AllXattrs, where: string): void {
  const p = `/proc/self/fd/${fd}`;
  const wanted = new Set(want.map(([n]) => n));
  for (const [n] of allXattrsOfFd(fd, where)) {
    if (wanted.has(n) || n === SELINUX_XATTR) continue;
    try {
      removeAttributeSync(p, n);
    } catch (err) {
      throw ioError(`remove xattr ${n} of`, where, err);
    }
  }
  for (const [n, v] of want) {
    try {
      setAttributeSync(p, n, v);
    } catch (err) {
      throw ioError(`set xattr ${n} on`, where, err);
    }
  }
}

/** Sets NS.overlay.KEY on a path (its last component not followed): builds opaque dirs and xattr whiteouts. */
export function setOverlayXattr(file: string, key: OverlayKey, value: Buffer | string, ns: XattrNamespace = 'trusted'): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, O_PATH | fs.constants.O_NOFOLLOW);
    setAttributeSync(`/proc/self/fd/${fd}`, `${ns}.overlay.${key}`, value);
  } catch (err) {
    throw ioError(`set ${ns}.overlay.${key} on`, file, err);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

/** The value of xattr `name` of a path (its last component not followed), or null when it has none. */
export function xattrOf(file: string, name: string): Buffer | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, O_PATH | fs.constants.O_NOFOLLOW);
    return getAttributeSync(`/proc/self/fd/${fd}`, name);
  } catch (err) {
    if (isAbsent(err)) return null;
    throw ioError(`read xattr ${name} of`, file, err);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

export const SELINUX_XATTR = 'security.selinux';

/**
 * Gives `to` the SELinux label of `from` (neither followed if a symlink): an upper must carry the
 * mountpoint's label, not its state dir's (var_t). Returns false when `from` has no label (no SELinux).
 */
export function copySelinuxLabel(from: string, to: string): boolean {
  let src: number | undefined;
  let dst: number | undefined;
  try {
    src = fs.openSync(from, O_PATH | fs.constants.O_NOFOLLOW);
    let label: Buffer;
    try {
      label = getAttributeSync(`/proc/self/fd/${src}`, SELINUX_XATTR);
    } catch (err) {
      if (isAbsent(err)) return false;
      throw err;
    }
    dst = fs.openSync(to, O_PATH | fs.constants.O_NOFOLLOW);
    const p = `/proc/self/fd/${dst}`;
    let current: Buffer | undefined;
    try {
      current = getAttributeSync(p, SELINUX_XATTR);
    } catch (err) {
      if (!isAbsent(err)) throw err;
    }
    if (current === undefined || !current.equals(label)) setAttributeSync(p, SELINUX_XATTR, label);
    return true;
  } catch (err) {
    throw ioError(`copy the ${SELINUX_XATTR} label of ${from} to`, to, err);
  } finally {
    if (src !== undefined) closeQuietly(src);
    if (dst !== undefined) closeQuietly(dst);
  }
}
