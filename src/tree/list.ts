// The entries of a directory that may not be there: none, rather than an error; any other failure names it.
import fs from 'node:fs';
import { ioError } from '../errors.js';

/** The entries of dir (their types as readdir gives them, symlinks not followed), none when dir is missing or not a directory. */
export function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw ioError('cannot list', dir, err);
  }
}
