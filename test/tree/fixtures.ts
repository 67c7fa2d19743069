// Builders of hostile trees for the tree, manifest and CLI tests: every entry kind, awkward names,
// deep paths past PATH_MAX, symlinks that must never be followed.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/exec.js';
import { fdPath } from '../../src/tree/fsat.js';

/** Bytes 0x01..0xff except '/': every byte a name may hold, in one 254-byte name. */
export const EVERY_BYTE: Buffer = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1).filter((b) => b !== 0x2f));
export const INVALID_UTF8: Buffer = Buffer.from([0x62, 0xff, 0xfe, 0x80, 0x2e, 0x63]);
export const NEWLINE: Buffer = Buffer.from('new\nline', 'latin1');
export const LONG: Buffer = Buffer.alloc(255, 0x6c);

export { rel } from '../model/rel.js';

/** A path under dir made of raw-byte components (for fs calls that accept Buffers). */
export const bpath = (dir: string, ...parts: (string | Buffer)[]): Buffer =>
  Buffer.concat([Buffer.from(dir, 'utf8'), ...parts.flatMap((p) => [Buffer.from('/'), typeof p === 'string' ? Buffer.from(p, 'latin1') : p])]);

export function scratch(prefix = 'so-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** A UNIX socket file at file (linked, so that closing the server does not remove it). */
export async function makeSocket(file: string): Promise<void> {
  const tmp = path.join(os.tmpdir(), `so-sock-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(tmp, resolve));
  try {
    fs.linkSync(tmp, file);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(tmp, { force: true });
  }
}

export async function mknod(file: string, kind: 'c' | 'b', major: number, minor: number): Promise<void> {
  await run('mknod', [file, kind, String(major), String(minor)]);
}

/** Creates `depth` nested directories named `name` below dir (fd-relative: the path outgrows PATH_MAX); a file 'leaf' at the bottom. */
export function makeDeep(dir: string, name: string, depth: number): void {
  let fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  for (let i = 0; i < depth; i++) {
    const child = fdPath(fd, Buffer.from(name));
    fs.mkdirSync(child);
    const next = fs.openSync(child, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fs.closeSync(fd);
    fd = next;
  }
  fs.writeFileSync(fdPath(fd, Buffer.from('leaf')), 'bottom\n');
  fs.closeSync(fd);
}

/** Removes a tree that may be deeper than PATH_MAX (rm -rf works fd-relative). */
export async function removeTree(dir: string): Promise<void> {
  await run('rm', ['-rf', '--one-file-system', dir]);
}

/** The hostile tree used across tests: every entry type, awkward names, hardlinks, a chain 2100 deep. */
export async function buildHostile(dir: string): Promise<void> {
  fs.writeFileSync(bpath(dir, 'plain'), 'plain content\n');
  fs.writeFileSync(bpath(dir, NEWLINE), 'newline name\n');
  fs.writeFileSync(bpath(dir, INVALID_UTF8), 'latin1 name\n');
  fs.writeFileSync(bpath(dir, LONG), 'long name\n');
  fs.mkdirSync(bpath(dir, EVERY_BYTE));
  fs.writeFileSync(bpath(dir, EVERY_BYTE, EVERY_BYTE), 'every byte\n');
  fs.symlinkSync('loop2', bpath(dir, 'loop1'));
  fs.symlinkSync('loop1', bpath(dir, 'loop2'));
  fs.symlinkSync('.', bpath(dir, 'self'));
  fs.symlinkSync('/etc/shadow', bpath(dir, 'shadow'));
  fs.symlinkSync('/etc', bpath(dir, 'etc'));
  await run('mkfifo', [path.join(dir, 'fifo')]);
  await makeSocket(path.join(dir, 'sock'));
  await mknod(path.join(dir, 'null'), 'c', 1, 3);
  await mknod(path.join(dir, 'loopdev'), 'b', 7, 200);
  fs.writeFileSync(bpath(dir, 'hard1'), 'shared inode\n');
  fs.linkSync(bpath(dir, 'hard1'), bpath(dir, 'hard2'));
  fs.mkdirSync(bpath(dir, 'sub'), { mode: 0o750 });
  fs.writeFileSync(bpath(dir, 'sub', 'x'), 'x\n', { mode: 0o4755 });
  fs.chmodSync(bpath(dir, 'sub', 'x'), 0o4755);
  makeDeep(dir, 'dd', 2100);
}
