// What a copy must equal before its original goes, entry by entry: type, mode, owner, size, content
// (sha256, link target, device numbers), every xattr, the mtime to the microsecond, and which entries of
// the tree share an inode. Two trees are walked in step (through directory fds: any depth) and the first
// entry that differs is named.
import fs from 'node:fs';
import { ioError } from '../errors.js';
import { TREE_ROOT, fromBytes, type RelPath } from '../model/entry.js';
import { DIR_FLAGS, O_PATH, closeQuietly, entryType, fdPath } from './fsat.js';
import { digestEntry } from './handles.js';
import { walk } from './walk.js';
import { allXattrsOfFd } from './xattr.js';

/** An entry as the directory fd holding it and its name there. */
export interface EntryAt {
  readonly dirFd: number;
  readonly name: Buffer;
}

const FIELDS = ['type', 'mode', 'owner', 'size', 'content', 'xattrs', 'mtime', 'hard links'] as const;
type Fields = Record<(typeof FIELDS)[number], string>;

function fieldsOf(dirFd: number, name: Buffer, st: fs.BigIntStats, rel: RelPath, firstOf: Map<string, RelPath>): Fields {
  const where = `/proc/self/fd/${dirFd}/${name.toString('latin1')}`;
  const h = fs.openSync(fdPath(dirFd, name), O_PATH | fs.constants.O_NOFOLLOW);
  let xattrs: string;
  try {
    xattrs = allXattrsOfFd(h, where).map(([n, v]) => `${n}=${v.toString('hex')}`).join(',');
  } finally {
    closeQuietly(h);
  }
  const dir = st.isDirectory();
  let links = '';
  if (!dir && st.nlink > 1n) {
    const key = `${st.dev}:${st.ino}`;
    links = firstOf.get(key) ?? '';
    if (links === '') firstOf.set(key, rel);
  }
  return {
    type: entryType(st),
    mode: (st.mode & 0o7777n).toString(8),
    owner: `${st.uid}:${st.gid}`,
    // A directory's size is the filesystem's business.
    size: dir ? '' : String(st.size),
    content: dir ? '' : digestEntry(`/proc/self/fd/${dirFd}`, fromBytes(name), st),
    xattrs,
    mtime: String(st.mtimeNs >= 0n ? st.mtimeNs / 1000n : (st.mtimeNs - 999n) / 1000n),
    'hard links': links,
  };
}

/** The fields of the entry at `at` and of everything below it, in walk order. */
function* entries(at: EntryAt): Generator<[RelPath, Fields]> {
  const firstOf = new Map<string, RelPath>();
  const st = fs.lstatSync(fdPath(at.dirFd, at.name), { bigint: true });
  yield [TREE_ROOT, fieldsOf(at.dirFd, at.name, st, TREE_ROOT, firstOf)];
  if (!st.isDirectory()) return;
  const fd = fs.openSync(fdPath(at.dirFd, at.name), DIR_FLAGS);
  try {
    const fail = (p: RelPath, err: Error) => {
      throw ioError('read', `/proc/self/fd/${fd}/${p}`, err);
    };
    for (const e of walk(`/proc/self/fd/${fd}`, { bigint: true, onError: fail })) yield [e.path, fieldsOf(e.dirFd, e.name, e.st, e.path, firstOf)];
  } finally {
    closeQuietly(fd);
  }
}

export interface Difference {
  /** The entry, relative to the compared entries ('' for them). */
  readonly path: RelPath;
  readonly what: string;
}

/** The first entry in which the copy differs from the original (with what differs), or undefined when none does. */
export function firstDifference(original: EntryAt, copy: EntryAt): Difference | undefined {
  const a = entries(original);
  const b = entries(copy);
  try {
    for (;;) {
      const x = a.next();
      const y = b.next();
      if (x.done && y.done) return undefined;
      if (y.done) return { path: x.value![0], what: 'missing from the copy' };
      if (x.done) return { path: y.value[0], what: 'in the copy only' };
      const [[pa, fa], [pb, fb]] = [x.value, y.value];
      if (pa !== pb) return { path: pa < pb ? pa : pb, what: pa < pb ? 'missing from the copy' : 'in the copy only' };
      const differ = FIELDS.filter((f) => fa[f] !== fb[f]);
      if (differ.length > 0) return { path: pa, what: `${differ.join(', ')} differ${differ.length === 1 ? 's' : ''}` };
    }
  } finally {
    a.return(undefined);
    b.return(undefined);
  }
}
