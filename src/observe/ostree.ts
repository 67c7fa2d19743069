// The booted ostree deployment, from what an ostree host exposes at boot: /run/ostree-booted and the
// `ostree=` kernel argument, a symlink chain ending in /ostree/deploy/OS/deploy/CHECKSUM.SERIAL.
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';
import { underRoot } from '../paths/layout.js';

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
