// copyTree onto another filesystem and firstDifference: the hostile tree (every kind, awkward names, hard
// links, 2100 levels deep) and special files past one `cp` batch copy whole; each field a copy can get
// wrong is named when it differs.
import fs from 'node:fs';
import path from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { copyTree } from '../../src/tree/copy.js';
import { firstDifference } from '../../src/tree/fingerprint.js';
import { DirHandles } from '../../src/tree/handles.js';
import { displayPath, type RelPath } from '../../src/model/entry.js';
import { snapshotFull } from '../ops/scratch.js';
import { buildHostile, rel, removeTree, scratch } from './fixtures.js';

let root: string;
let src: string;
let dst: string;
beforeEach(async () => {
  root = scratch('so-copy-');
  src = path.join(root, 'src');
  dst = path.join(root, 'dst');
  fs.mkdirSync(path.join(src, 'top'), { recursive: true });
  fs.mkdirSync(dst);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', dst]);
});
afterEach(async () => {
  await tryRun('umount', [dst]);
  await removeTree(root);
});

/** Copies src/top to dst/top; returns the first difference the fingerprint finds, as "path: what". */
async function copyAndCompare(): Promise<string | undefined> {
  const h = new DirHandles(dst, 'write');
  const sfd = fs.openSync(src, 'r');
  try {
    await copyTree(sfd, Buffer.from('top'), { dst: h, rel: rel('top'), stage: rel('stage') }, (sub: RelPath) => `top/${displayPath(sub)}`);
    return differs(sfd);
  } finally {
    fs.closeSync(sfd);
    h.close();
  }
}

function differs(sfd: number): string | undefined {
  const dfd = fs.openSync(dst, 'r');
  try {
    const d = firstDifference({ dirFd: sfd, name: Buffer.from('top') }, { dirFd: dfd, name: Buffer.from('top') });
    return d === undefined ? undefined : `${displayPath(d.path)}: ${d.what}`;
  } finally {
    fs.closeSync(dfd);
  }
}

const compareNow = () => {
  const sfd = fs.openSync(src, 'r');
  try {
    return differs(sfd);
  } finally {
    fs.closeSync(sfd);
  }
};

describe('copyTree', () => {
  it('copies the hostile tree whole, through fds, 2100 levels deep', { timeout: 120_000 }, async () => {
    await buildHostile(path.join(src, 'top'));
    setAttributeSync(path.join(src, 'top'), 'user.top', 'top');
    expect(await copyAndCompare()).toBeUndefined();
    expect(snapshotFull(path.join(dst, 'top'))).toEqual(snapshotFull(path.join(src, 'top')));
    expect(fs.readdirSync(dst)).toEqual(['top']);
  });

  it('makes more special files than one cp batch, hard links among them kept', async () => {
    const fifos = Array.from({ length: 300 }, (_, i) => path.join(src, 'top', `p${i}`));
    await run('mkfifo', fifos);
    fs.linkSync(fifos[7]!, path.join(src, 'top/p7-link'));
    expect(await copyAndCompare()).toBeUndefined();
    expect(fs.readdirSync(path.join(dst, 'top'))).toHaveLength(301);
    expect(fs.lstatSync(path.join(dst, 'top/p7-link')).ino).toBe(fs.lstatSync(path.join(dst, 'top/p7')).ino);
  });

  it('keeps times before 1970 (negative seconds) of a file, a symlink and a directory, as lstat shows them', async () => {
    const old = [new Date('1960-01-01T00:00:00.500Z'), new Date('1969-12-31T23:59:59.250Z')] as const;
    const top = path.join(src, 'top');
    fs.writeFileSync(path.join(top, 'file'), 'f');
    fs.symlinkSync('file', path.join(top, 'link'));
    fs.mkdirSync(path.join(top, 'dir'));
    fs.utimesSync(path.join(top, 'file'), ...old);
    fs.lutimesSync(path.join(top, 'link'), ...old);
    fs.utimesSync(path.join(top, 'dir'), ...old);
    fs.utimesSync(top, ...old);
    expect(await copyAndCompare()).toBeUndefined();
    for (const p of ['', 'file', 'link', 'dir']) expect(fs.lstatSync(path.join(dst, 'top', p)).mtimeMs, p).toBe(Date.parse('1969-12-31T23:59:59.250Z'));
  });

  it('a single entry (a file, a symlink, a device) is copied as well as a directory', async () => {
    fs.rmdirSync(path.join(src, 'top'));
    await run('mknod', [path.join(src, 'top'), 'c', '0', '0']);
    setAttributeSync(path.join(src, 'top'), 'trusted.overlay.whiteout', '');
    expect(await copyAndCompare()).toBeUndefined();
    expect(fs.lstatSync(path.join(dst, 'top')).isCharacterDevice()).toBe(true);
  });
});

/** Runs change, then gives dst/sub back its times (a change of its entries moves them). */
function keepingTimes(sub: string, change: () => void): () => void {
  return () => {
    const dir = path.join(dst, sub);
    const st = fs.statSync(dir, { bigint: true });
    change();
    const seconds = (ns: bigint) => (Number(ns / 1000n) + 0.5) / 1e6;
    fs.utimesSync(dir, seconds(st.atimeNs), seconds(st.mtimeNs));
  };
}

describe('firstDifference', () => {
  const changes: Array<[string, () => void, string]> = [
    ['an xattr', () => setAttributeSync(path.join(dst, 'top/sub/f'), 'user.new', 'x'), 'sub/f: xattrs differs'],
    ['a mode', () => fs.chmodSync(path.join(dst, 'top/sub'), 0o700), 'sub: mode differs'],
    ['an owner', () => fs.lchownSync(path.join(dst, 'top/l'), 5, 5), 'l: owner differs'],
    ['an mtime', () => fs.utimesSync(path.join(dst, 'top'), 1, 1), ': mtime differs'],
    ['content of the same size', () => fs.writeFileSync(path.join(dst, 'top/sub/f'), 'F\n'), 'sub/f: content, mtime differ'],
    ['a hard link', keepingTimes('top/sub', () => {
      fs.rmSync(path.join(dst, 'top/sub/f-link'));
      fs.copyFileSync(path.join(dst, 'top/sub/f'), path.join(dst, 'top/sub/f-link'));
    }), 'sub/f-link: xattrs, mtime, hard links differ'],
    ['an extra entry', keepingTimes('top', () => fs.writeFileSync(path.join(dst, 'top/zz'), '')), 'zz: in the copy only'],
    ['a missing entry', keepingTimes('top/sub', () => fs.rmSync(path.join(dst, 'top/sub/g'))), 'sub/g: missing from the copy'],
  ];
  it.each(changes)('names the entry whose %s differs', async (_what, change, expected) => {
    fs.mkdirSync(path.join(src, 'top/sub'));
    fs.writeFileSync(path.join(src, 'top/sub/f'), 'f\n');
    fs.linkSync(path.join(src, 'top/sub/f'), path.join(src, 'top/sub/f-link'));
    fs.writeFileSync(path.join(src, 'top/sub/g'), 'g\n');
    fs.symlinkSync('sub', path.join(src, 'top/l'));
    setAttributeSync(path.join(src, 'top/sub/f'), 'user.k', 'v');
    fs.utimesSync(path.join(src, 'top/sub/f'), 5, 5);
    expect(await copyAndCompare()).toBeUndefined();
    change();
    expect(compareNow()).toBe(expected);
  });
});
