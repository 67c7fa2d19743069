// Durable file replacement: write a temp file beside the target, fsync it, rename over, fsync the directory.
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';

/** fsync a directory so that renames and creations in it survive a power cut. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fs.fsyncSync(fd);
  } catch (err) {
    throw ioError('fsync directory', dir, err);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes the temp files in dir that writers killed before their rename left, which nothing else would:
 * names `pattern` matches, its first group the pid of a process that is gone.
 */
export function removeStaleTemps(dir: string, pattern: RegExp): void {
  for (const f of fs.readdirSync(dir)) {
    const m = pattern.exec(f);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) fs.rmSync(path.join(dir, f), { force: true });
  }
}

const escaped = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/** Replaces file with data atomically and durably; readers see the old or the new content, never a mix. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    removeStaleTemps(dir, new RegExp(`^\\.${escaped(path.basename(file))}\\.tmp-(\\d+)$`));
  } catch (err) {
    throw ioError('write', file, err);
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, mode);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw ioError('write', file, err);
  }
  fsyncDir(dir);
}
