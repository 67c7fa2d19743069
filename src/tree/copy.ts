// Copying an entry with its subtree to another filesystem through directory fds (any depth, past
// PATH_MAX): content (holes kept), every xattr (POSIX ACLs, file capabilities, trusted.* and the overlay
// ones), mode, owner, times (to the microsecond: Node sets no finer) and the hard links within the
// subtree. Device nodes, FIFOs and sockets, which Node cannot make, are made by `cp -a` from O_PATH
// handles, a batch at a time, in a staging directory, then renamed into place.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import { run } from '../exec.js';
import { utimens } from '../native/syscalls.js';
import { TREE_ROOT, joinRel, parentOf, type RelPath } from '../model/entry.js';
import { DIR_FLAGS, FILE_FLAGS, O_PATH, closeQuietly, components, fdPath } from './fsat.js';
import type { DirHandles } from './handles.js';
import { walk } from './walk.js';
import { allXattrsOfFd, setAllXattrsOfFd, type AllXattrs } from './xattr.js';

type Stats = fs.BigIntStats;

export interface CopyTarget {
  /** Write handles on the destination tree. */
  readonly dst: DirHandles;
  /** Where the copy goes: it must not exist, its parent must. */
  readonly rel: RelPath;
  /** A name beside rel for staging special files; made and removed here (it must not exist). */
  readonly stage: RelPath;
}

/** Special files per `cp` run. */
const BATCH = 256;
const BUF = Buffer.alloc(1 << 20);
/** Holes are kept at this granularity: an all-zero block of a sparse file is not written. */
const ZERO = Buffer.alloc(4096);
/** utimensat(2)'s "relative to the current directory": for a path that is absolute anyway. */
const AT_FDCWD = -100;

const lastOf = (rel: RelPath): Buffer => components(rel).pop()!;


function writeAll(fd: number, buf: Buffer, off: number, len: number, position: number | null): void {
  // write(2) may write less than asked (a filling disk): loop, so that ENOSPC surfaces as an error.
  for (let done = 0; done < len; ) done += fs.writeSync(fd, buf, off + done, len - done, position === null ? null : position + done);
}

/** Copies src's content to out; for a sparse source, all-zero blocks are left as holes. */
function copyContent(src: number, out: number, st: Stats): void {
  const sparse = st.blocks * 512n < st.size;
  let pos = 0;
  for (let n: number; (n = fs.readSync(src, BUF, 0, BUF.length, null)) > 0; pos += n) {
    if (!sparse) {
      writeAll(out, BUF, 0, n, null);
      continue;
    }
    for (let at = 0; at < n; at += ZERO.length) {
      const len = Math.min(ZERO.length, n - at);
      if (!BUF.subarray(at, at + len).equals(ZERO.subarray(0, len))) writeAll(out, BUF, at, len, pos + at);
    }
  }
  if (sparse) fs.ftruncateSync(out, pos);
}

interface Special {
  /** O_PATH handle on the source, for `cp` to reach it as /proc/PID/fd/N. */
  readonly fd: number;
  readonly rel: RelPath;
  readonly xattrs: AllXattrs;
  readonly shown: string;
}

class Copier {
  /** The copy of each source inode with other links ("dev:ino"), for the next link to it. */
  private readonly firstCopy = new Map<string, RelPath>();
  /** Hard links to make once every entry exists: [existing copy, new name]. */
  private readonly links: Array<[RelPath, RelPath]> = [];
  /** Directories in pre-order: their attributes are set last, deepest first (their entries change their times). */
  private readonly dirs: Array<{ rel: RelPath; st: Stats; xattrs: AllXattrs; shown: string }> = [];
  private specials: Special[] = [];
  private staged = false;

  constructor(private readonly t: CopyTarget) {}

  private parentFd(rel: RelPath): number {
    const fd = this.t.dst.dir(parentOf(rel));
    if (fd === undefined) throw Object.assign(new Error('destination directory vanished'), { code: 'ENOENT' });
    return fd;
  }

  /** Copies the entry NAME of dirFd (lstat st) to rel; shown names it in errors. */
  async entry(dirFd: number, name: Buffer, st: Stats, rel: RelPath, shown: string): Promise<void> {
    const src = fdPath(dirFd, name);
    try {
      if (!st.isDirectory() && st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.firstCopy.get(key);
        if (first !== undefined) return void this.links.push([first, rel]);
        this.firstCopy.set(key, rel);
      }
      const h = fs.openSync(src, O_PATH | fs.constants.O_NOFOLLOW);
      let xattrs: AllXattrs;
      try {
        xattrs = allXattrsOfFd(h, shown);
      } finally {
        closeQuietly(h);
      }
      const at = fdPath(this.parentFd(rel), lastOf(rel));
      if (st.isDirectory()) {
        fs.mkdirSync(at, { mode: 0o700 });
        this.dirs.push({ rel, st, xattrs, shown });
      } else if (st.isFile()) this.file(src, st, at, xattrs, shown);
      else if (st.isSymbolicLink()) this.symlink(src, st, at, xattrs, shown);
      else {
        this.specials.push({ fd: fs.openSync(src, O_PATH | fs.constants.O_NOFOLLOW), rel, xattrs, shown });
        if (this.specials.length >= BATCH) await this.flushSpecials();
      }
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('copy', shown, err);
    }
  }

  private file(src: Buffer, st: Stats, at: Buffer, xattrs: AllXattrs, shown: string): void {
    const inFd = fs.openSync(src, FILE_FLAGS);
    let out: number | undefined;
    try {
      const now = fs.fstatSync(inFd, { bigint: true });
      if (now.ino !== st.ino || !now.isFile()) throw new StateOverlayError('io', `${shown}: replaced while being copied`, { path: shown });
      out = fs.openSync(at, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      copyContent(inFd, out, st);
      // Owner before mode (chown clears set-id bits), xattrs after both (chown drops a file capability).
      fs.fchownSync(out, Number(st.uid), Number(st.gid));
      fs.fchmodSync(out, Number(st.mode & 0o7777n));
      setAllXattrsOfFd(out, xattrs, `copy of ${shown}`);
      utimens(out, null, st.atimeNs, st.mtimeNs);
      fs.fsyncSync(out);
    } finally {
      if (out !== undefined) closeQuietly(out);
      closeQuietly(inFd);
    }
  }

  private symlink(src: Buffer, st: Stats, at: Buffer, xattrs: AllXattrs, shown: string): void {
    fs.symlinkSync(fs.readlinkSync(src, { encoding: 'buffer' }), at);
    fs.lchownSync(at, Number(st.uid), Number(st.gid));
    const h = fs.openSync(at, O_PATH | fs.constants.O_NOFOLLOW);
    try {
      setAllXattrsOfFd(h, xattrs, `copy of ${shown}`);
    } finally {
      closeQuietly(h);
    }
    utimens(AT_FDCWD, at, st.atimeNs, st.mtimeNs);
  }

  /** `cp -a` makes the pending special files in the stage (named by their handle numbers); each is renamed into place. */
  private async flushSpecials(): Promise<void> {
    const batch = this.specials;
    if (batch.length === 0) return;
    const { dst, stage } = this.t;
    if (!this.staged) {
      fs.mkdirSync(fdPath(this.parentFd(stage), lastOf(stage)), { mode: 0o700 });
      this.staged = true;
    }
    const stageFd = dst.open(stage, DIR_FLAGS);
    try {
      const pid = process.pid;
      await run('cp', ['-a', '-H', '-t', `/proc/${pid}/fd/${stageFd}`, '--', ...batch.map((s) => `/proc/${pid}/fd/${s.fd}`)]);
      for (const s of batch) {
        const at = fdPath(this.parentFd(s.rel), lastOf(s.rel));
        fs.renameSync(fdPath(stageFd, Buffer.from(String(s.fd))), at);
        const h = fs.openSync(at, O_PATH | fs.constants.O_NOFOLLOW);
        try {
          setAllXattrsOfFd(h, s.xattrs, `copy of ${s.shown}`);
        } finally {
          closeQuietly(h);
        }
      }
    } finally {
      closeQuietly(stageFd);
      for (const s of batch) closeQuietly(s.fd);
      this.specials = [];
    }
  }

  /** The special files left, the hard links, then each directory's attributes, deepest first, each fsynced. */
  async finish(): Promise<void> {
    const { dst, stage } = this.t;
    await this.flushSpecials();
    if (this.staged) fs.rmdirSync(fdPath(this.parentFd(stage), lastOf(stage)));
    for (const [first, rel] of this.links) {
      const fd = dst.open(parentOf(first), O_PATH | fs.constants.O_DIRECTORY);
      try {
        fs.linkSync(fdPath(fd, lastOf(first)), fdPath(this.parentFd(rel), lastOf(rel)));
      } finally {
        closeQuietly(fd);
      }
    }
    for (const d of [...this.dirs].reverse()) {
      const fd = dst.dir(d.rel);
      if (fd === undefined) throw Object.assign(new Error('copied directory vanished'), { code: 'ENOENT' });
      try {
        fs.fchownSync(fd, Number(d.st.uid), Number(d.st.gid));
        fs.fchmodSync(fd, Number(d.st.mode & 0o7777n));
        setAllXattrsOfFd(fd, d.xattrs, `copy of ${d.shown}`);
        utimens(fd, null, d.st.atimeNs, d.st.mtimeNs);
        fs.fsyncSync(fd);
      } catch (err) {
        if (err instanceof StateOverlayError) throw err;
        throw ioError('copy', d.shown, err);
      }
    }
  }

  close(): void {
    for (const s of this.specials) closeQuietly(s.fd);
    this.specials = [];
  }
}

/**
 * Copies the entry NAME of the directory sfd, with everything below it, to t.dst/t.rel. shown(sub) names
 * a source entry (sub relative to NAME) in errors. A failure leaves what was made in place: the caller
 * removes t.rel and t.stage.
 */
export async function copyTree(sfd: number, name: Buffer, t: CopyTarget, shown: (sub: RelPath) => string): Promise<void> {
  const c = new Copier(t);
  try {
    const st = fs.lstatSync(fdPath(sfd, name), { bigint: true });
    await c.entry(sfd, name, st, t.rel, shown(TREE_ROOT));
    if (st.isDirectory()) {
      const fd = fs.openSync(fdPath(sfd, name), DIR_FLAGS);
      try {
        const fail = (p: RelPath, err: Error) => {
          throw ioError('copy', shown(p), err);
        };
        for (const e of walk(`/proc/self/fd/${fd}`, { bigint: true, onError: fail })) {
          await c.entry(e.dirFd, e.name, e.st, joinRel(t.rel, e.path), shown(e.path));
        }
      } finally {
        closeQuietly(fd);
      }
    }
    await c.finish();
  } catch (err) {
    if (err instanceof StateOverlayError) throw err;
    throw ioError('copy', shown(TREE_ROOT), err);
  } finally {
    c.close();
  }
}
