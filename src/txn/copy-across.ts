// Moving an entry to another filesystem (the upper and a backup set apart, either way): copied under a
// temp name of this transaction, verified against the original (every attribute, see tree/fingerprint),
// renamed into place and fsynced, and only then the original removed. Through directory fds throughout.
import fs from 'node:fs';
import { newSha256 } from '../hash.js';
import { StateOverlayError } from '../errors.js';
import { displayPath, fromBytes, joinRel, parentOf, toBytes, type RelPath } from '../model/entry.js';
import { copyTree } from '../tree/copy.js';
import { firstDifference, type Difference } from '../tree/fingerprint.js';
import { components, fdPath } from '../tree/fsat.js';
import type { DirHandles } from '../tree/handles.js';
import { removeAt } from '../tree/remove.js';

/** One side of the move: handles on its tree and how its root is shown. */
export interface Side {
  readonly handles: DirHandles;
  readonly root: string;
}

const lastOf = (rel: RelPath): Buffer => components(rel).pop()!;
const show = (side: Side, rel: RelPath) => (rel === '' ? side.root : `${side.root}/${displayPath(rel)}`);

/**
 * The temp names of moving rel, keyed by the transaction (token: its backup set) and the path: no host
 * entry is ever taken for one and removed, and a later run of the same transaction finds and removes what
 * a cut one left. Within NAME_MAX.
 */
export function tempNames(token: string, rel: RelPath): { copy: Buffer; stage: Buffer } {
  const key = newSha256().update(`${token}\0`).update(toBytes(rel)).digest('hex').slice(0, 24);
  return { copy: Buffer.from(`.state-overlay-copy-${key}`), stage: Buffer.from(`.state-overlay-nodes-${key}`) };
}

const why = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Moves src/rel to dst/rel, whose parent exists and which does not; token is the transaction's backup set. */
export async function copyAcross(src: Side, dst: Side, rel: RelPath, token: string): Promise<void> {
  const name = lastOf(rel);
  const { copy, stage } = tempNames(token, rel);
  const [tmp, stageRel] = [joinRel(parentOf(rel), fromBytes(copy)), joinRel(parentOf(rel), fromBytes(stage))];
  const dirOf = (side: Side) => {
    const fd = side.handles.dir(parentOf(rel));
    if (fd === undefined) throw new StateOverlayError('corrupt', `${show(side, parentOf(rel))} is gone`, { path: show(side, rel) });
    return fd;
  };
  const clean = () => {
    // This transaction's own leftovers (an earlier run cut short, or this one failing).
    dst.handles.forget(tmp);
    dst.handles.forget(stageRel);
    removeAt(dirOf(dst), copy);
    removeAt(dirOf(dst), stage);
  };
  const [from, to] = [show(src, rel), show(dst, rel)];
  let diff: Difference | undefined;
  try {
    clean();
    await copyTree(dirOf(src), name, { dst: dst.handles, rel: tmp, stage: stageRel }, (sub) => (sub === '' ? from : `${from}/${displayPath(sub)}`));
    dst.handles.forget(tmp);
    diff = firstDifference({ dirFd: dirOf(src), name }, { dirFd: dirOf(dst), name: copy });
  } catch (err) {
    let left = '';
    try {
      clean();
    } catch (e) {
      // Any failure: the copy failed already, and the next run of this transaction removes its temp names.
      left = ` (its partial copy ${show(dst, tmp)} remains: ${why(e)})`;
    }
    throw new StateOverlayError('io', `cannot copy ${from} to ${to} on another filesystem: ${why(err)}; left in place${left}`, { path: from, cause: err });
  }
  if (diff !== undefined) {
    clean();
    const at = diff.path === '' ? from : `${from}/${displayPath(diff.path)}`;
    throw new StateOverlayError('io', `copy of ${from} to ${to} on another filesystem does not match the original (${at}: ${diff.what}): left in place`, { path: at });
  }
  const dfd = dirOf(dst);
  // rename(2) would replace an entry that appeared meanwhile.
  if (fs.lstatSync(fdPath(dfd, name), { throwIfNoEntry: false }) !== undefined) {
    throw new StateOverlayError('io', `cannot move ${from} to ${to}: it exists (copy left at ${show(dst, tmp)})`, { path: to });
  }
  fs.renameSync(fdPath(dfd, copy), fdPath(dfd, name));
  fs.fsyncSync(dfd);
  src.handles.forget(rel);
  removeAt(dirOf(src), name);
}
