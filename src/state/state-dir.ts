// The per-overlay state directory: created 0700 and root-owned, no symlink anywhere in its path.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { STATE_ROOT } from '../systemd/instance.js';

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('lstat', p, err);
  }
}

/**
 * Makes every directory from the root down to dir, refusing symlinks and non-directories on the way.
 * Directories created at or below privateFrom get mode 0700; an existing one there must belong to
 * this user and is tightened to 0700 if it is looser.
 */
export function ensureSafeDir(root: string, dir: string, privateFrom: string): void {
  const rel = path.relative(root, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new StateOverlayError('internal', `${dir} is not under ${root}`);
  const uid = process.geteuid?.() ?? 0;
  let cur = root;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    cur = path.join(cur, part);
    const priv = cur === privateFrom || cur.startsWith(privateFrom + path.sep);
    let st = lstatOrUndefined(cur);
    if (st === undefined) {
      try {
        fs.mkdirSync(cur, { mode: priv ? 0o700 : 0o755 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create directory', cur, err);
      }
      st = fs.lstatSync(cur);
    }
    if (st.isSymbolicLink()) throw new StateOverlayError('unsafe', `${cur} is a symlink: refusing to keep overlay state through it`, { path: cur });
    if (!st.isDirectory()) throw new StateOverlayError('unsafe', `${cur} is not a directory`, { path: cur });
    if (!priv) continue;
    // Not being root is the usual reason, and the fix is sudo, not a chown.
    if (st.uid !== uid && st.uid === 0) throw new StateOverlayError('permission', `${cur} is owned by root: must be run as root`, { path: cur });
    if (st.uid !== uid) throw new StateOverlayError('unsafe', `${cur} is owned by uid ${st.uid}, expected ${uid}`, { path: cur });
    if ((st.mode & 0o077) !== 0) {
      try {
        fs.chmodSync(cur, st.mode & 0o700);
      } catch (err) {
        throw ioError('chmod', cur, err);
      }
    }
  }
}

/** /var/lib/state-overlay/NAME (root-prefixed), mode 0700, with no symlink in its path. */
export function ensureStateDir(layout: Layout): void {
  ensureSafeDir(layout.root, layout.stateDir, path.join(layout.root, STATE_ROOT));
}

/** A directory inside the state dir (backups, manifests), made safely. */
export function ensureStateSubdir(layout: Layout, dir: string): void {
  ensureStateDir(layout);
  ensureSafeDir(layout.root, dir, layout.stateDir);
}
