// The Debian 12 guest's root tree from Debian's own packages (mmdebstrap), cached by its inputs.
import path from 'node:path';
import { run } from '../../src/exec.js';
import { cached, hashOf } from './cache.js';

export const SUITE = 'bookworm';
export const MIRROR = process.env.VM_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

/** What the guest needs beyond minbase: systemd as init, a kernel + initrd, and the tools the phases use. */
export const PACKAGES = [
  'systemd-sysv',
  'linux-image-amd64',
  'initramfs-tools',
  'udev',
  'kmod',
  'e2fsprogs',
  'util-linux',
  'attr',
  'procps',
  'psmisc',
] as const;

/** Leaves docs, man pages and translations out: nothing in the guest reads them. */
const DPKG_EXCLUDES = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/locale/*', '/usr/share/info/*'];

export function rootfsKey(): string {
  return hashOf([SUITE, MIRROR, ...PACKAGES, ...DPKG_EXCLUDES]);
}

/** Returns the cached directory whose `root/` holds the unpacked guest. */
export async function debianRootfs(): Promise<string> {
  return cached('rootfs', rootfsKey(), async (dir) => {
    await run(
      'mmdebstrap',
      [
        '--variant=minbase',
        `--include=${PACKAGES.join(',')}`,
        ...DPKG_EXCLUDES.map((p) => `--dpkgopt=path-exclude=${p}`),
        SUITE,
        path.join(dir, 'root'),
        `deb ${MIRROR} ${SUITE} main`,
      ],
      { timeoutMs: 20 * 60_000 },
    );
  });
}
