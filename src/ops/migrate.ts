// Adopts an ostree state overlay (/var/ostree/state-overlays/NAME/{upper,work}) on first run: moved, never
// copied, with the deployment it was made against as the recorded base when that checkout is still on disk.
import fs from 'node:fs';
import path from 'node:path';
import type { Overlay } from '../overlay/overlay.js';
import { ioError, StateOverlayError } from '../errors.js';
import { manifestPath } from '../manifest/store.js';
import { readMountinfo } from '../mount/mountinfo.js';
import { mountsOfUpper } from '../mount/in-use.js';
import { deploymentOf } from '../observe/ostree.js';
import { underRoot } from '../paths/layout.js';
import { ensureStateDir, ensureStateSubdir } from '../state/state-dir.js';
import { xattrOf } from '../tree/xattr.js';
import type { OverlaySession } from '../txn/session.js';
import { keepManifest } from './record.js';

export const OSTREE_STATE_ROOT = '/var/ostree/state-overlays';

/** The xattr `ostree admin state-overlay` sets on its upper: the commit of the deployment it last pruned the upper against. */
const DEPLOYMENT_CSUM_XATTR = 'user.ostree.deploymentcsum';

export function ostreeStateDir(ov: Overlay): string {
  return underRoot(ov.layout.root, path.posix.join(OSTREE_STATE_ROOT, ov.name));
}

function isDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError('lstat', p, err);
  }
}

/** The commit ostree's upper was made against, or null: none set, or not the 64 hex digits ostree writes (ostree itself reads that as none). */
function upperDeployment(upper: string): string | null {
  const v = xattrOf(upper, DEPLOYMENT_CSUM_XATTR)?.toString('latin1');
  return v !== undefined && /^[0-9a-f]{64}$/.test(v) ? v : null;
}

/**
 * Records the checkout of deployment `checksum` at the mountpoint (ostree mounts its overlay over the
 * mountpoint itself) as the base the upper was made against: generation `ostree:CHECKSUM`, its manifest
 * built now, package classes from that deployment's databases. Returns the checkout, or null when no
 * deployment of that commit is on disk any more.
 */
async function recordDeploymentBase(s: OverlaySession, checksum: string): Promise<string | null> {
  const { overlay: ov, layout } = s;
  const deployment = deploymentOf(layout.root, checksum);
  const base = deployment === undefined ? null : underRoot(deployment, ov.config.path);
  if (deployment === undefined || base === null || !isDir(base)) return null;
  const generation = `ostree:${checksum}`;
  const file = manifestPath(layout, generation);
  // Recorded already: a run cut between this and the move.
  if (s.state?.generation === generation && fs.existsSync(file)) return base;
  ensureStateSubdir(layout, layout.manifestsDir);
  await keepManifest({ generation, source: 'ostree' }, file, base, [], undefined, undefined, async () => {
    // Loaded only to migrate: a run with nothing to adopt never reads a package database.
    const { readPackageDbs } = await import('../observe/package-db.js');
    return readPackageDbs(deployment, ov.config.path, ov.config.paths.configFrom);
  });
  s.updateState((state) => ({ ...state, generation, manifest: path.basename(file) }));
  return base;
}

/**
 * Moves ostree's upper and work into our state dir when we have no upper yet. The base recorded first,
 * then the move: a cut between the two leaves ostree's upper where it was, and the next run moves it.
 * Without that deployment on disk, no base is recorded and the first reconcile applies UnknownBase= (rule 10).
 * Returns the directory migrated from, or null when there was nothing to do.
 */
export async function migrateOstree(s: OverlaySession): Promise<string | null> {
  const { overlay: ov, log, layout } = s;
  if (ov.config.mode === 'ephemeral') return null;
  const from = ostreeStateDir(ov);
  const oldUpper = path.join(from, 'upper');
  if (!isDir(oldUpper) || fs.existsSync(layout.upper)) return null;
  const real = fs.realpathSync(oldUpper);
  const inUse = mountsOfUpper(readMountinfo(), real)[0];
  if (inUse) {
    throw new StateOverlayError('busy', `${oldUpper} is the upper of the overlay mounted on ${inUse.mountpoint}: stop ostree-state-overlay@${ov.name}.service and unmount it first`, {
      path: oldUpper,
    });
  }
  ensureStateDir(layout);
  const deployment = upperDeployment(oldUpper);
  const base = deployment === null ? null : await recordDeploymentBase(s, deployment);
  try {
    fs.renameSync(oldUpper, layout.upper);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV') {
      throw new StateOverlayError('unsupported', `cannot move ${oldUpper} to ${layout.upper}: they are on different filesystems; move it by hand (cp -a, keeping xattrs) and run again`, {
        path: oldUpper,
        cause: err,
      });
    }
    throw ioError(`cannot move ${oldUpper} to`, layout.upper, err);
  }
  // The old work dir may hold kernel leftovers (work/work, owned by root, mode 000): it is not needed.
  fs.rmSync(path.join(from, 'work'), { recursive: true, force: true });
  try {
    fs.rmdirSync(from);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // something else lives there: leave it
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw ioError('remove directory', from, err);
  }
  log.info({ event: 'migrate.ostree', name: ov.name, from: oldUpper, to: layout.upper, deployment, base });
  return oldUpper;
}
