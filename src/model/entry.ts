// The shared model of both sides of an overlay: base entries (manifests) and upper entries.
//
// Paths are RelPath: the entry's path relative to the tree root, '/'-separated, no leading slash,
// held as a *binary string* (one char per byte, latin1): lossless for any byte in a name, cheap
// to compare and to use as a Map key. Convert with toBytes()/fromBytes(); never through UTF-8.

declare const relPathBrand: unique symbol;
/**
 * A string at run time, branded in the types: read it wherever a string is read (Map keys, comparisons,
 * startsWith), but make one only with the constructors below, so that UTF-8 decoded text (an argument,
 * `buf.toString('utf8')`, a JSON field) cannot pass for one unnoticed.
 */
export type RelPath = string & { readonly [relPathBrand]: true };

/** The root of the tree itself: the empty RelPath. */
export const TREE_ROOT = '' as RelPath;
/** The path whose bytes are b (or b[start, end)). */
export const fromBytes = (b: Buffer, start?: number, end?: number): RelPath => b.toString('latin1', start, end) as RelPath;
/**
 * Text that is already a binary string, one char per byte: a path field of our own JSON (journal, backup
 * index) read back and checked, or RelPaths and ASCII put together. Never text decoded as UTF-8.
 */
export const relPath = (binary: string): RelPath => binary as RelPath;
/** A path as a person types it (a command-line argument): the bytes of its UTF-8 encoding. */
export const relFromText = (text: string): RelPath => fromBytes(Buffer.from(text, 'utf8'));
export const toBytes = (p: RelPath): Buffer => Buffer.from(p, 'latin1');
/** T as JSON.parse hands it back: every RelPath a plain string, until checked and branded with relPath(). */
export type FromJson<T> = T extends RelPath ? string : T extends readonly (infer E)[] ? readonly FromJson<E>[] : T extends object ? { readonly [K in keyof T]: FromJson<T[K]> } : T;
/** For messages and logs only: bytes shown as UTF-8 where valid, \xNN otherwise. */
export function displayPath(p: RelPath): string {
  const b = toBytes(p);
  const s = b.toString('utf8');
  if (Buffer.from(s, 'utf8').equals(b) && !/[\x00-\x1f\x7f]/.test(s)) return s;
  let out = '';
  for (const byte of b) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}
/** Longest file name Linux filesystems take (bytes): a longer name can neither exist nor be created. */
export const NAME_MAX = 255;

export const joinRel = (dir: RelPath, name: RelPath): RelPath => (dir === '' ? name : relPath(`${dir}/${name}`));
export const parentOf = (p: RelPath): RelPath => {
  const i = p.lastIndexOf('/');
  return i < 0 ? TREE_ROOT : relPath(p.slice(0, i));
};
export const isUnder = (p: RelPath, dir: RelPath): boolean => dir === '' || p.startsWith(dir + '/');
/** True when p names an entry below a root: not '', no empty, '.' or '..' component, no NUL byte. */
export const isEntryPath = (p: RelPath): boolean => p !== '' && !p.includes('\0') && !/(?:^|\/)\.{0,2}(?:\/|$)/.test(p);

export const ENTRY_TYPES = ['file', 'dir', 'symlink', 'chr', 'blk', 'fifo', 'socket'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/** A regular file whose content was not read: no comparison it takes part in could find it equal. */
export interface Unread {
  readonly unread: true;
}
export const UNREAD: Unread = Object.freeze({ unread: true });

/**
 * What is known of an entry's content: the sha256 hex of a file's content, a symlink's target bytes or a
 * device's "major:minor"; '' for a directory, FIFO or socket, which have none; or UNREAD.
 */
export type Digest = string | Unread;
export const isUnread = (d: Digest): d is Unread => typeof d !== 'string';

/** One entry of a base generation, as a manifest records it. */
export interface BaseEntry {
  readonly path: RelPath;
  readonly type: EntryType;
  /** Permission bits including setuid/setgid/sticky (st_mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** sha256 hex of content (file), of the target bytes (symlink), of "major:minor" (chr/blk); '' for dir, fifo, socket. */
  readonly digest: Digest;
  /**
   * The identity of its xattrs other than overlay's own (tree/xattr.ts identityXattrsOfFd: '' none),
   * where an observation read them; absent or UNREAD: not read, and then it is identical to nothing.
   */
  readonly xattrs?: Digest;
}

type StatNumber = number | bigint;
/** The permission bits (setuid, setgid and sticky included), owner and size of an lstat, as every entry records them. */
export function statAttrs(st: { mode: StatNumber; uid: StatNumber; gid: StatNumber; size: StatNumber }): { mode: number; uid: number; gid: number; size: number } {
  return { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size) };
}

/** What an upper entry is relative to the base below it (DESIGN section 2). */
export const UPPER_KINDS = ['state', 'shadow', 'merged-dir', 'opaque-dir', 'whiteout', 'foreign'] as const;
export type UpperKind = (typeof UPPER_KINDS)[number];

/** An upper entry: its stat as a base entry records it (the digest read only where a comparison needs it, UNREAD otherwise), and its kind. */
export interface UpperEntry extends BaseEntry {
  readonly kind: UpperKind;
  /** For kind 'foreign': which overlay feature marks it (redirect, metacopy). */
  readonly foreign?: 'redirect' | 'metacopy';
  /** Whiteout flavour: char device 0:0, or an xattr whiteout (zero-size file with overlay.whiteout). */
  readonly whiteout?: 'chardev' | 'xattr';
}

/** Random access to one base generation (a manifest, or the live base hashed on demand). */
export interface BaseView {
  get(path: RelPath): BaseEntry | undefined;
  /** Every entry strictly below dir, in any order. */
  under(dir: RelPath): Iterable<BaseEntry>;
}

/** Same type and content (digest); mode/owner not compared. The decision table's "changed" test. UNREAD equals nothing. */
export function sameContent(a: { type: EntryType; digest: Digest }, b: { type: EntryType; digest: Digest }): boolean {
  return a.type === b.type && typeof a.digest === 'string' && a.digest === b.digest;
}

/** Same xattrs (overlay's own aside), both read: an xattr the host set or removed is a change of its own. */
export function sameXattrs(a: { xattrs?: Digest }, b: { xattrs?: Digest }): boolean {
  return typeof a.xattrs === 'string' && a.xattrs === b.xattrs;
}

/** Same mode and owner. */
export const sameAttrs = (a: { mode: number; uid: number; gid: number }, b: { mode: number; uid: number; gid: number }): boolean =>
  a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;

/** Same type, content, mode, owner and xattrs: an upper entry that is a redundant copy-up (rule 1). */
export function identical(a: Omit<BaseEntry, 'path' | 'size'>, b: Omit<BaseEntry, 'path' | 'size'>): boolean {
  return sameContent(a, b) && sameAttrs(a, b) && sameXattrs(a, b);
}
