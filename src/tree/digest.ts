// The digest rules of the manifest (DESIGN section 2): sha256 of file content, of a symlink's target
// bytes, of "major:minor" for devices; '' for directories, FIFOs and sockets.
import fs from 'node:fs';
import { newSha256 } from '../hash.js';
import type { EntryType } from '../model/entry.js';
import { majorMinor } from './fsat.js';

export const sha256 = (data: Buffer | string): string => newSha256().update(data).digest('hex');

/** Reads fd from its current offset to the end through buf; returns [sha256 hex, bytes read]. */
export function hashFd(fd: number, buf: Buffer): [string, number] {
  const h = newSha256();
  let total = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    total += n;
  }
  return [h.digest('hex'), total];
}

/** Digest of a non-file entry from its lstat (and its target for symlinks). */
export function digestOfSpecial(type: EntryType, st: Pick<fs.Stats | fs.BigIntStats, 'rdev'>, linkTarget?: Buffer): string {
  switch (type) {
    case 'symlink':
      return sha256(linkTarget ?? Buffer.alloc(0));
    case 'chr':
    case 'blk': {
      const [major, minor] = majorMinor(st.rdev);
      return sha256(`${major}:${minor}`);
    }
    default:
      return '';
  }
}
