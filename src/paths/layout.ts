// Every on-disk location of one overlay (DESIGN section 3), prefixed by --root.
import path from 'node:path';
import { STATE_ROOT } from '../systemd/instance.js';

export const CONFIG_DIRS = ['/etc/state-overlay', '/run/state-overlay', '/usr/lib/state-overlay'] as const;
export const RUN_ROOT = '/run/state-overlay';
export const SHIP_DIR = '/usr/lib/state-overlay';

/** Joins an absolute in-image path under the root (`/` leaves it as is). */
export function underRoot(root: string, abs: string): string {
  return root === '/' ? abs : path.join(root, abs);
}

export interface Layout {
  readonly root: string;
  readonly name: string;
  /** The mountpoint as the host sees it (`/opt`), without the root prefix. */
  readonly mountpoint: string;
  /** The mountpoint on this machine (root-prefixed). */
  readonly target: string;
  readonly stateDir: string;
  readonly upper: string;
  readonly work: string;
  readonly stateFile: string;
  readonly manifestsDir: string;
  /** Content-addressed copies of base files a later update may merge, and staged merge results (manifest/pristine.ts). */
  readonly pristineDir: string;
  readonly journal: string;
  readonly backupsDir: string;
  readonly lockFile: string;
  readonly runDir: string;
  /** Private read-only bind of the base, reachable once the overlay hides it. */
  readonly baseBind: string;
  /** The device of the overlay last mounted, kept until nothing can reach it (a lazy unmount leaves it in use). */
  readonly mountRecord: string;
  /** Manifest shipped in the image (`state-overlay index --ship`). */
  readonly shippedManifest: string;
}

export function layoutFor(root: string, name: string, mountpoint: string, ephemeral = false): Layout {
  const stateDir = underRoot(root, path.posix.join(STATE_ROOT, name));
  const runDir = underRoot(root, path.posix.join(RUN_ROOT, name));
  const dataDir = ephemeral ? runDir : stateDir;
  return Object.freeze({
    root,
    name,
    mountpoint,
    target: underRoot(root, mountpoint),
    stateDir,
    upper: path.join(dataDir, 'upper'),
    work: path.join(dataDir, 'work'),
    stateFile: path.join(stateDir, 'state.json'),
    manifestsDir: path.join(stateDir, 'manifests'),
    pristineDir: path.join(stateDir, 'pristine'),
    journal: path.join(stateDir, 'journal'),
    backupsDir: path.join(stateDir, 'backups'),
    lockFile: path.join(stateDir, 'lock'),
    runDir,
    baseBind: path.join(runDir, 'base'),
    mountRecord: path.join(runDir, 'mounted.json'),
    shippedManifest: underRoot(root, path.posix.join(SHIP_DIR, `${name}.manifest`)),
  });
}
