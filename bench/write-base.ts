// Writes a planned base tree to disk with synchronous calls (the fastest way to create many small files).
import fs from 'node:fs';
import { writeContent } from './content.js';
import type { BasePlan } from './base-plan.js';

/** Absolute path of a planned entry as a Buffer: names are raw bytes, never UTF-8 round-tripped. */
export const at = (root: string, rel: string): Buffer => Buffer.from(`${root}/${rel}`, 'latin1');

export function writeBase(root: string, plan: BasePlan): void {
  const old = process.umask(0);
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    for (const e of plan.entries) {
      const p = at(root, e.path);
      switch (e.kind) {
        case 'dir':
          fs.mkdirSync(p, { mode: e.mode });
          break;
        case 'file':
          writeContent(p, e.path, e.size, 0, e.mode);
          break;
        case 'symlink':
          fs.symlinkSync(Buffer.from(e.target, 'latin1'), p);
          break;
        case 'hardlink':
          fs.linkSync(at(root, e.to), p);
          break;
      }
      if (e.kind !== 'dir' && e.kind !== 'file') continue;
      if (e.uid !== 0 || e.gid !== 0) fs.chownSync(p, e.uid, e.gid);
      // Creation modes drop setuid/setgid bits, and chown clears them: set them last.
      if (e.mode & 0o7000) fs.chmodSync(p, e.mode);
    }
  } finally {
    process.umask(old);
  }
}
