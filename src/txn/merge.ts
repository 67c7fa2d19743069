// A merge action: the host's file replaced by its three-way merge, as one journaled, idempotent step. The
// host's version goes to the backup set first (moved, never copied over), then the merged bytes (staged in
// the pristine store before the journal) are written beside it under a temp name, given the host's mode and
// owner, fsynced and renamed into place. A cut leaves the host's file in the upper or in the set, and the
// merged file whole or not at all; the replay finds what is done and does the rest.
import fs from 'node:fs';
import { newSha256 } from '../hash.js';
import { StateOverlayError, ioError } from '../errors.js';
import { parentOf } from '../model/entry.js';
import { readBlob, stateStore } from '../manifest/pristine.js';
import type { Layout } from '../paths/layout.js';
import type { MergeFile } from '../plan/types.js';
import { closeQuietly, fdPath } from '../tree/fsat.js';
import { digestEntry } from '../tree/handles.js';
import { allXattrsOfFd, isOverlayXattr, setAllXattrsOfFd } from '../tree/xattr.js';
import { StaleAction, lastName, lstatAt, moveBetween, show, type ApplyContext } from './apply.js';

export async function applyMerge(layout: Layout, tree: string, a: MergeFile, c: ApplyContext, token: string): Promise<void> {
  const upper = layout.upper;
  const fd = c.dirs.open(upper, parentOf(a.path));
  if (fd === undefined) throw new StateOverlayError('corrupt', `${show(upper, parentOf(a.path))} is gone`, { path: show(upper, a.path) });
  const name = lastName(a.path);
  const digestOf = (root: string, st: fs.Stats | undefined) => (st?.isFile() ? digestEntry(root, a.path, st) : undefined);
  const here = lstatAt(fd, name);
  const saved = c.dirs.open(tree, parentOf(a.path));
  const kept = saved === undefined ? undefined : lstatAt(saved, name);
  if (kept !== undefined && digestOf(upper, here) === a.digest) return c.touch(upper, parentOf(a.path));
  const content = readBlob(stateStore(layout), a.digest);
  // Without the merged bytes the host's file stays where it is; a replay that moved it already leaves the
  // path showing the new base, the host's version in the set, as a drop would.
  if (content === undefined) {
    const where = kept === undefined ? 'the host\'s file is left as it is' : `the host's version is in ${show(tree, a.path)}`;
    throw new StaleAction(`the merged content of ${show(upper, a.path)} (${a.digest}) is missing from ${layout.pristineDir}: not merged, ${where}`, show(upper, a.path));
  }
  if (here !== undefined) {
    if (digestOf(upper, here) !== a.host) throw new StaleAction(`${show(upper, a.path)} changed since the merge was planned: not merged, left as it is`, show(upper, a.path));
    // Into the set (an interrupted move across filesystems is finished the same way).
    await moveBetween(upper, tree, a.path, c, token);
  } else if (kept === undefined) {
    throw new StaleAction(`${show(upper, a.path)} is gone and not in ${show(tree, a.path)} either: nothing to merge`, show(upper, a.path));
  }
  // The host's version gives the merged file its mode, owner and xattrs (an ACL, the SELinux label), not overlay's own.
  const hostFd = fs.openSync(fdPath(c.dirs.ensure(tree, parentOf(a.path)), name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  let attrs: { st: fs.Stats; xattrs: ReturnType<typeof allXattrsOfFd> };
  try {
    attrs = { st: fs.fstatSync(hostFd), xattrs: allXattrsOfFd(hostFd, show(tree, a.path)).filter(([n]) => !isOverlayXattr(n)) };
  } finally {
    closeQuietly(hostFd);
  }
  writeMerged(c, upper, a, content, attrs, token);
}

function writeMerged(c: ApplyContext, upper: string, a: MergeFile, content: Buffer, attrs: { st: fs.Stats; xattrs: ReturnType<typeof allXattrsOfFd> }, token: string): void {
  const dir = c.dirs.open(upper, parentOf(a.path));
  if (dir === undefined) throw new StateOverlayError('corrupt', `${show(upper, parentOf(a.path))} is gone`, { path: show(upper, a.path) });
  const name = lastName(a.path);
  const key = newSha256().update(`${token}\0merge\0`).update(name).digest('hex').slice(0, 24);
  const tmp = fdPath(dir, Buffer.from(`.state-overlay-tmp-${key}`));
  let out: number | undefined;
  try {
    fs.rmSync(tmp, { force: true });
    out = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    for (let at = 0; at < content.length; ) at += fs.writeSync(out, content, at, content.length - at);
    fs.fchownSync(out, attrs.st.uid, attrs.st.gid);
    fs.fchmodSync(out, attrs.st.mode & 0o7777);
    setAllXattrsOfFd(out, attrs.xattrs, show(upper, a.path));
    fs.fsyncSync(out);
    closeQuietly(out);
    out = undefined;
    if (lstatAt(dir, name) !== undefined) throw new StaleAction(`${show(upper, a.path)} was written again since the merge began: not merged, the host's version is in the backup set`, show(upper, a.path));
    fs.renameSync(tmp, fdPath(dir, name));
    c.touch(upper, parentOf(a.path));
  } catch (err) {
    if (out !== undefined) closeQuietly(out);
    fs.rmSync(tmp, { force: true });
    if (err instanceof StateOverlayError) throw err;
    throw ioError('write merged file', show(upper, a.path), err);
  } finally {
    c.dirs.forget(upper, a.path);
  }
}
