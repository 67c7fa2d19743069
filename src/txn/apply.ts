// The filesystem side of each plan action, idempotent and symlink-proof: every entry is reached through
// directory fds opened without following symlinks (/proc/self/fd/N/NAME), and each step is fsynced.
// The executor passes one context (directory handles, directories to fsync) to the actions of a batch;
// called alone, an action opens its own handles and fsyncs at once.
import fs from 'node:fs';
import { newSha256 } from '../hash.js';
import { StateOverlayError, ioError } from '../errors.js';
import { TREE_ROOT, displayPath, parentOf, toBytes, type RelPath } from '../model/entry.js';
import type { SetAttrs } from '../plan/types.js';
import { DIR_FLAGS, closeQuietly, components, fdPath } from '../tree/fsat.js';
import { DirHandles, lstatBeneath, openBeneath } from '../tree/handles.js';
import { removeAt } from '../tree/remove.js';
import { copyAcross } from './copy-across.js';

export const show = (root: string, rel: RelPath) => `${root}/${displayPath(rel)}`;

/**
 * An action whose premise no longer holds (its source changed, or a name it needs was taken, since the plan
 * was made): nothing was done and nothing is lost. The executor records it as a warning and goes on.
 */
export class StaleAction extends StateOverlayError {
  constructor(message: string, path: string) {
    super('io', message, { path });
    this.name = 'StaleAction';
  }
}

/**
 * Records a directory whose entries (or own inode) changed and must be fsynced before the step counts as
 * durable. The executor batches these.
 */
export type Touch = (root: string, relDir: RelPath) => void;

export function lastName(rel: RelPath): Buffer {
  const parts = components(rel);
  return parts[parts.length - 1]!;
}

/** Write handles on the trees a batch acts in (the upper, a backup set), one DirHandles per root. */
export class TreeHandles {
  private readonly trees = new Map<string, DirHandles>();
  /** The handles on root (owned here). */
  of(root: string): DirHandles {
    let h = this.trees.get(root);
    if (h === undefined) {
      h = new DirHandles(root, 'write');
      this.trees.set(root, h);
    }
    return h;
  }
  /** A handle on root/rel (owned here: never close it), or undefined when it does not exist. */
  open = (root: string, rel: RelPath): number | undefined => this.of(root).dir(rel);
  ensure = (root: string, rel: RelPath): number => this.of(root).ensure(rel);
  forget = (root: string, rel: RelPath): void => this.of(root).forget(rel);
  sync = (root: string, rel: RelPath): void => this.of(root).sync(rel);
  get empty(): boolean {
    return [...this.trees.values()].every((h) => h.empty);
  }
  close(): void {
    for (const h of this.trees.values()) h.close();
    this.trees.clear();
  }
}

/** Directory handles and the directories to fsync, shared by the actions of one batch. */
export interface ApplyContext {
  readonly dirs: TreeHandles;
  readonly touch: Touch;
}

/** A context for one action alone: its own handles, closed after it, and every directory fsynced at once. */
function oneShot(): ApplyContext {
  const dirs = new TreeHandles();
  return { dirs, touch: (root, rel) => dirs.sync(root, rel) };
}

export function using<T>(shared: ApplyContext | undefined, fn: (c: ApplyContext) => T): T {
  const c = shared ?? oneShot();
  try {
    return fn(c);
  } finally {
    if (shared === undefined) c.dirs.close();
  }
}

export function lstatAt(dirFd: number, name: Buffer): fs.Stats | undefined {
  try {
    return fs.lstatSync(fdPath(dirFd, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Whether root/rel is absent from its parent, reached as a plain directory: gone, not merely out of reach
 * behind a symlink or non-directory swapped in on the way.
 */
export function goneFrom(dirs: TreeHandles, root: string, rel: RelPath): boolean {
  const fd = dirs.open(root, parentOf(rel));
  return fd !== undefined && lstatAt(fd, lastName(rel)) === undefined;
}

/** Whether root/rel exists, reached without a symlink or non-directory on the way. */
export function presentIn(dirs: TreeHandles, root: string, rel: RelPath): boolean {
  const fd = dirs.open(root, parentOf(rel));
  return fd !== undefined && lstatAt(fd, lastName(rel)) !== undefined;
}

/**
 * Moves upper/rel (with its subtree) to tree/rel (into backups, or back on restore). Done already (only the
 * destination exists) is success. token (the transaction's backup set) keys the temp names of a move
 * across filesystems.
 */
export async function moveBetween(upper: string, tree: string, rel: RelPath, shared?: ApplyContext, token = ''): Promise<void> {
  const { dirs, touch } = shared ?? oneShot();
  try {
    const name = lastName(rel);
    try {
      const sfd = dirs.open(upper, parentOf(rel));
      const dfd = dirs.ensure(tree, parentOf(rel));
      const s = sfd === undefined ? undefined : lstatAt(sfd, name);
      const d = lstatAt(dfd, name);
      if (s === undefined || sfd === undefined) {
        // Done already (maybe not durably: the directories are synced again below).
        if (!d) throw new StateOverlayError('corrupt', `${show(upper, rel)} is gone and not in ${show(tree, rel)} either`, { path: show(upper, rel) });
      } else if (d) {
        // An interrupted cross-filesystem move: the copy is renamed into place only once verified.
        dirs.forget(upper, rel);
        removeAt(sfd, name);
      } else {
        try {
          fs.renameSync(fdPath(sfd, name), fdPath(dfd, name));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
          await copyAcross({ handles: dirs.of(upper), root: upper }, { handles: dirs.of(tree), root: tree }, rel, token);
        }
      }
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('move to backups', show(upper, rel), err);
    } finally {
      dirs.forget(upper, rel);
      dirs.forget(tree, rel);
    }
    // The new directories in the destination chain too: their parents' entries changed.
    for (let d: RelPath = parentOf(rel); ; d = parentOf(d)) {
      touch(tree, d);
      if (d === '') break;
    }
    touch(upper, parentOf(rel));
  } finally {
    if (shared === undefined) dirs.close();
  }
}

/** Renames upper/rel to upper/to in the same directory; never replaces an existing entry. */
export function renameWithin(upper: string, rel: RelPath, to: RelPath, shared?: ApplyContext): void {
  using(shared, ({ dirs, touch }) => {
    const fd = dirs.open(upper, parentOf(rel));
    if (fd === undefined) throw new StateOverlayError('corrupt', `${show(upper, parentOf(rel))} is gone`, { path: show(upper, rel) });
    try {
      const [name, toName] = [lastName(rel), lastName(to)];
      const s = lstatAt(fd, name);
      const d = lstatAt(fd, toName);
      if (!s) {
        if (!d) throw new StaleAction(`${show(upper, rel)} is gone and ${show(upper, to)} does not exist: nothing to move aside`, show(upper, rel));
      } else {
        if (d) throw new StaleAction(`cannot move ${show(upper, rel)} aside: ${show(upper, to)} exists: left in place`, show(upper, to));
        fs.renameSync(fdPath(fd, name), fdPath(fd, toName));
      }
      touch(upper, parentOf(rel));
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('rename', show(upper, rel), err);
    } finally {
      dirs.forget(upper, rel);
      dirs.forget(upper, to);
    }
  });
}

/** Gives upper/a.path (a directory) the base directory's mode and owner. */
export function setAttrs(upper: string, a: SetAttrs, shared?: ApplyContext): void {
  using(shared, ({ dirs, touch }) => {
    try {
      const fd = dirs.open(upper, a.path);
      if (fd === undefined) {
        // Gone is done: a replay finds it removed by a later action (rmdir). Anything else in its place is not ours to change.
        const parent = dirs.open(upper, parentOf(a.path));
        if (parent === undefined || lstatAt(parent, lastName(a.path)) === undefined) return;
        throw new StaleAction(`${show(upper, a.path)} is no longer a directory: mode and owner not set`, show(upper, a.path));
      }
      fs.fchownSync(fd, a.uid, a.gid);
      fs.fchmodSync(fd, a.mode);
      touch(upper, a.path);
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('set mode and owner of', show(upper, a.path), err);
    }
  });
}

/** rmdir upper/rel; gone already is success, not empty is an error. */
export function removeEmptyDir(upper: string, rel: RelPath, shared?: ApplyContext): void {
  using(shared, ({ dirs, touch }) => {
    const fd = dirs.open(upper, parentOf(rel));
    if (fd === undefined) return;
    try {
      try {
        fs.rmdirSync(fdPath(fd, lastName(rel)));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Something the plan did not leave there (an entry it could not move, say): the directory stays.
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new StaleAction(`remove directory ${show(upper, rel)}: ENOTEMPTY: it holds what the plan did not leave there; kept`, show(upper, rel));
        if (code === 'ENOTDIR') throw new StaleAction(`${show(upper, rel)} is no longer a directory: left in place`, show(upper, rel));
        if (code !== 'ENOENT') throw err;
      }
      touch(upper, parentOf(rel));
    } catch (err) {
      if (err instanceof StateOverlayError) throw err;
      throw ioError('remove directory', show(upper, rel), err);
    } finally {
      dirs.forget(upper, rel);
    }
  });
}

/**
 * Creates the missing parents of rel in the upper as copy-up would, with the base directory's mode and
 * owner: each made under a temp name unique to the transaction (token), given its attributes, then
 * renamed into place, so a cut never leaves a parent with the wrong mode.
 */
export function makeParents(upper: string, base: string, rel: RelPath, token: string): void {
  const dirs: RelPath[] = [];
  for (let d = parentOf(rel); d !== TREE_ROOT; d = parentOf(d)) dirs.unshift(d);
  for (const dir of dirs) {
    if (lstatBeneath(upper, dir)) continue;
    const b = lstatBeneath(base, dir);
    const fd = openBeneath(upper, parentOf(dir), DIR_FLAGS);
    const key = newSha256().update(`${token}\0`).update(toBytes(dir)).digest('hex').slice(0, 24);
    const tmp = fdPath(fd, Buffer.from(`.state-overlay-dir-${key}`));
    try {
      // A temp dir of this transaction left by a cut: empty (it would have been renamed once it held anything).
      try {
        fs.rmdirSync(tmp);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      fs.mkdirSync(tmp, { mode: 0o700 });
      const attrs = b?.isDirectory() ? b : undefined;
      fs.chownSync(tmp, attrs?.uid ?? 0, attrs?.gid ?? 0);
      fs.chmodSync(tmp, attrs ? attrs.mode & 0o7777 : 0o755);
      fs.renameSync(tmp, fdPath(fd, lastName(dir)));
      fs.fsyncSync(fd);
    } catch (err) {
      throw ioError('create directory', `${upper}/${displayPath(dir)}`, err);
    } finally {
      closeQuietly(fd);
    }
  }
}
