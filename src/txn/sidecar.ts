// Writing a sidecar (`.rpmnew`, `.dpkg-dist`): the base entry copied into the upper under a temp name,
// verified against the digest the plan was made with, then renamed into place. A source that changed since
// (a rollback, a manifest that does not match the base) or a name taken since is a StaleAction: nothing written.
import fs from 'node:fs';
import { newSha256 } from '../hash.js';
import { StateOverlayError, ioError } from '../errors.js';
import { parentOf } from '../model/entry.js';
import type { WriteSidecar } from '../plan/types.js';
import { FILE_FLAGS, closeQuietly, fdPath, isAbsent } from '../tree/fsat.js';
import { digestEntry, openBeneath, readlinkBeneath } from '../tree/handles.js';
import { StaleAction, lastName, lstatAt, show, using, type ApplyContext } from './apply.js';

/** The base entry a sidecar is copied from gone or no longer of its type since the plan was made. */
const sourceChanged = (base: string, a: WriteSidecar) => new StaleAction(`${show(base, a.from)} is no longer a ${a.type === 'file' ? 'regular file' : 'symlink'}: sidecar not written`, show(base, a.from));
const contentChanged = (base: string, a: WriteSidecar) => new StaleAction(`${show(base, a.from)} changed since it was hashed: sidecar not written`, show(base, a.from));

/** Whether the base's own directory is there: without it, no entry of it is known to have changed. */
function baseThere(base: string): boolean {
  try {
    return fs.statSync(base).isDirectory();
  } catch (err) {
    if (isAbsent(err)) return false;
    throw ioError('stat', base, err);
  }
}

/**
 * Opens or reads the sidecar's source in the base; a source gone since the plan was made is a StaleAction.
 * The base itself gone (an unmounted bind) is an error: the journal stays for a run that can read it.
 */
function fromBase<T>(base: string, a: WriteSidecar, read: () => T): T {
  try {
    return read();
  } catch (err) {
    // Absent (or under a symlink or non-directory now), or a symlink that is no longer one (EINVAL).
    const gone = isAbsent(err) || (err as NodeJS.ErrnoException).code === 'EINVAL';
    if (gone && baseThere(base)) throw sourceChanged(base, a);
    throw ioError('read', show(base, a.from), err);
  }
}

function copyFileVerified(base: string, a: WriteSidecar, outPath: Buffer): void {
  const src = fromBase(base, a, () => openBeneath(base, a.from, FILE_FLAGS));
  let out: number | undefined;
  try {
    if (!fs.fstatSync(src).isFile()) throw sourceChanged(base, a);
    out = fs.openSync(outPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    const h = newSha256();
    const buf = Buffer.alloc(1 << 20);
    let n: number;
    while ((n = fs.readSync(src, buf, 0, buf.length, null)) > 0) {
      h.update(buf.subarray(0, n));
      // write(2) may write less than asked (a filling disk): loop, so that ENOSPC surfaces as an error.
      for (let at = 0; at < n; ) at += fs.writeSync(out, buf, at, n - at);
    }
    if (h.digest('hex') !== a.digest) throw contentChanged(base, a);
    fs.fchownSync(out, a.uid, a.gid);
    fs.fchmodSync(out, a.mode);
    fs.fsyncSync(out);
  } finally {
    if (out !== undefined) closeQuietly(out);
    closeQuietly(src);
  }
}

/**
 * Writes the base entry a.from as upper/a.path (via a temp name, verified against the planned digest).
 * token (the transaction's backup set) keys the temp name: an upper entry can never be mistaken for it
 * (and removed), while a temp left by an interrupted run of the same transaction is. It always fits NAME_MAX.
 */
export function writeSidecar(base: string, upper: string, a: WriteSidecar, shared?: ApplyContext, token = ''): void {
  using(shared, ({ dirs, touch }) => {
    const fd = dirs.open(upper, parentOf(a.path));
    if (fd === undefined) throw new StateOverlayError('corrupt', `${show(upper, parentOf(a.path))} is gone`, { path: show(upper, a.path) });
    const name = lastName(a.path);
    const key = newSha256().update(`${token}\0`).update(name).digest('hex').slice(0, 24);
    const tmp = fdPath(fd, Buffer.from(`.state-overlay-tmp-${key}`));
    try {
      const existing = lstatAt(fd, name);
      if (existing) {
        if (existing.isFile() === (a.type === 'file') && digestEntry(upper, a.path, existing) === a.digest) return touch(upper, parentOf(a.path));
        throw new StaleAction(`${show(upper, a.path)} exists with other content: sidecar not written`, show(upper, a.path));
      }
      fs.rmSync(tmp, { force: true });
      if (a.type === 'file') copyFileVerified(base, a, tmp);
      else {
        const target = fromBase(base, a, () => readlinkBeneath(base, a.from));
        if (newSha256().update(target).digest('hex') !== a.digest) throw contentChanged(base, a);
        fs.symlinkSync(target, tmp);
        fs.lchownSync(tmp, a.uid, a.gid);
      }
      fs.renameSync(tmp, fdPath(fd, name));
      touch(upper, parentOf(a.path));
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      if (err instanceof StateOverlayError) throw err;
      throw ioError('write sidecar', show(upper, a.path), err);
    }
  });
}
