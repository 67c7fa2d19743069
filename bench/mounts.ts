// Leaves no mount behind: unmounts everything at or below the bench's work dir, deepest first.
import { execa } from 'execa';
import { mountsUnder, readMountinfo } from '../src/mount/mountinfo.js';

export async function unmountUnder(dir: string): Promise<number> {
  let n = 0;
  for (;;) {
    const mounts = mountsUnder(readMountinfo(), dir);
    const last = mounts.at(-1);
    if (!last) return n;
    await execa('umount', [last.mountpoint]);
    n++;
  }
}
