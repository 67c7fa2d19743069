// The booted ostree deployment, from what an ostree host exposes at boot: /run/ostree-booted and the
// `ostree=` kernel argument, a symlink chain ending in /ostree/deploy/OS/deploy/CHECKSUM.SERIAL; and the
// deployment staged for the next boot, from the record ostree keeps of it in /run. That record is read
// here, not asked of `ostree admin status`: ostree reports a staged deployment only for the sysroot it is
// booted from, never for one under --root, and 2022.7 has no machine-readable status.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import { underRoot } from '../paths/layout.js';
import { listDir } from '../tree/list.js';
import { GVariantError, parseVardict, type VardictValue } from './gvariant.js';

/** The value of the `ostree=` karg in a /proc/cmdline text (last one wins, as in the kernel), or undefined. */
export function parseOstreeKarg(cmdline: string): string | undefined {
  let found: string | undefined;
  for (const arg of cmdline.trim().split(/\s+/)) {
    if (arg.startsWith('ostree=')) found = arg.slice('ostree='.length).replace(/^"(.*)"$/, '$1');
  }
  return found === '' ? undefined : found;
}

/** The commit checksum in a deployment directory path (`…/deploy/CHECKSUM.SERIAL`), or undefined. */
export function parseDeployPath(target: string): string | undefined {
  const m = /(?:^|\/)deploy\/([0-9a-f]{64})\.\d+\/?$/.exec(target);
  return m?.[1];
}

/**
 * The booted deployment's commit checksum on the host at root, or undefined when not booted on ostree.
 * The karg names /ostree/boot.N/OS/BOOTCSUM/SERIAL, a symlink (relative) to the deployment directory; the
 * booted host sees /ostree through /sysroot/ostree.
 */
export function bootedOstreeChecksum(root: string): string | undefined {
  if (!fs.existsSync(underRoot(root, '/run/ostree-booted'))) return undefined;
  const cmdlineFile = underRoot(root, '/proc/cmdline');
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(cmdlineFile, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // no karg to follow
    throw ioError('cannot read', cmdlineFile, err);
  }
  const karg = parseOstreeKarg(cmdline);
  if (karg === undefined || !karg.startsWith('/')) return undefined;
  for (const prefix of ['/sysroot', '']) {
    let link = prefix + karg;
    for (let hops = 0; hops < 8; hops++) {
      const direct = parseDeployPath(link);
      if (direct !== undefined) return direct;
      let target: string;
      try {
        target = fs.readlinkSync(underRoot(root, link));
      } catch (err) {
        // The chain ends here under this prefix: nothing there (ENOENT), or not a symlink (EINVAL).
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EINVAL') break;
        throw ioError('readlink', underRoot(root, link), err);
      }
      link = path.posix.resolve(path.posix.dirname(link), target);
    }
  }
  return undefined;
}

/**
 * The checkout of a deployment of commit checksum on the host at root (root-prefixed), or undefined when
 * no stateroot has one any more. A booted host sees the physical root's /ostree at /sysroot/ostree; a
 * sysroot itself has it at /ostree. Of several deployments of one commit (CHECKSUM.0, CHECKSUM.1, in
 * stateroots in name order), the first: they check out the same tree.
 */
export function deploymentOf(root: string, checksum: string): string | undefined {
  for (const prefix of ['/sysroot/ostree', '/ostree']) {
    const deploy = underRoot(root, `${prefix}/deploy`);
    for (const os of byName(listDir(deploy))) {
      const dir = path.join(deploy, os.name, 'deploy');
      const found = byName(listDir(dir)).find((d) => d.isDirectory() && parseDeployPath(`deploy/${d.name}`) === checksum);
      if (found !== undefined) return path.join(dir, found.name);
    }
  }
  return undefined;
}

const byName = (ds: fs.Dirent[]): fs.Dirent[] => ds.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** Where ostree records the deployment staged for the next boot (ostree admin deploy --stage, bootc upgrade). */
export const STAGED_DEPLOYMENT = '/run/ostree/staged-deployment';

export interface StagedDeployment {
  readonly osname: string;
  /** CHECKSUM.SERIAL, the deployment's directory name. */
  readonly name: string;
  readonly checksum: string;
  /** The deployment's root on this machine (root-prefixed). */
  readonly root: string;
}

/**
 * The staged deployment named by the state file's bytes (file names it in errors): its `target` entry, as
 * ostree writes it (`name`, `osname`, `bootcsum`; ostree-sysroot-deploy.c) and reads it back.
 */
export function parseStagedDeployment(bytes: Buffer, file: string): { osname: string; name: string; checksum: string } {
  let target: VardictValue | undefined;
  try {
    target = parseVardict(bytes).get('target');
  } catch (err) {
    if (!(err instanceof GVariantError)) throw err;
    throw new StateOverlayError('corrupt', `${file}: not ostree's staged deployment record (a GVariant a{sv}): ${err.message}`, { path: file });
  }
  const field = (key: string): string => {
    const v = target !== undefined && 'dict' in target ? target.dict.get(key) : undefined;
    if (v === undefined || !('s' in v)) throw new StateOverlayError('corrupt', `${file}: target.${key}: expected a string`, { path: file });
    return v.s;
  };
  const name = field('name');
  const osname = field('osname');
  const checksum = parseDeployPath(`deploy/${name}`);
  if (checksum === undefined || osname === '' || osname.includes('/') || osname === '.' || osname === '..') {
    throw new StateOverlayError('corrupt', `${file}: target: expected a deployment CHECKSUM.SERIAL of a stateroot, got ${JSON.stringify(`${osname}/${name}`)}`, { path: file });
  }
  return { osname, name, checksum };
}

/** The deployment staged for the next boot on the host at root; a clear error naming what was looked at when there is none. */
export function stagedDeployment(root: string): StagedDeployment {
  const file = underRoot(root, STAGED_DEPLOYMENT);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot read', file, err);
    throw new StateOverlayError('usage', `no staged ostree deployment: ${file} does not exist (stage one with 'bootc upgrade' or 'ostree admin deploy --stage', or give --image-root)`, { path: file });
  }
  const staged = parseStagedDeployment(bytes, file);
  const dir = underRoot(root, `/ostree/deploy/${staged.osname}/deploy/${staged.name}`);
  if (!fs.existsSync(dir)) throw new StateOverlayError('corrupt', `${file} names the staged deployment ${dir}, which does not exist`, { path: dir });
  return { ...staged, root: dir };
}
