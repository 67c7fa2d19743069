// The upper's files hashed on the thread pool: the digests DirHandles.digest makes one by one, whatever
// the batch a file falls in, with symlinks and devices beside; a file replaced since the walk, or gone,
// is an error naming it, and no fd is left open either way.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { relPath } from '../../src/model/entry.js';
import { digestsOnPool, type ToHash } from '../../src/observe/hash-pool.js';
import { DirHandles } from '../../src/tree/handles.js';
import { mknod, removeTree, scratch } from '../tree/fixtures.js';

const dir = scratch('so-hash-pool-');
afterAll(async () => removeTree(dir));

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

/** The entries at rels as a walk saw them: their lstat now. */
const seen = (root: string, rels: readonly string[]): ToHash[] =>
  rels.map((r) => ({ path: relPath(r), st: fs.lstatSync(path.join(root, r)) }));

describe('digestsOnPool', () => {
  it("gives each entry DirHandles.digest's digest, over batches, with symlinks and devices between the files", async () => {
    const root = path.join(dir, 'mixed');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    const rels: string[] = [];
    for (let i = 0; i < 75; i++) {
      const r = `sub/f${i}`;
      // Empty, small, and past the addon's 1 MiB read buffer.
      fs.writeFileSync(path.join(root, r), i === 0 ? '' : Buffer.alloc(i === 40 ? (1 << 20) + 17 : i * 97, i));
      rels.push(r);
      if (i % 20 === 5) {
        fs.symlinkSync(`f${i}`, path.join(root, `sub/l${i}`));
        rels.push(`sub/l${i}`);
      }
    }
    await mknod(path.join(root, 'chr'), 'c', 1, 3);
    rels.push('chr');
    const entries = seen(root, rels);
    // The handles' own directory fds are theirs until closed: counted around them.
    const before = openFds();
    const h = new DirHandles(root);
    try {
      const got = await digestsOnPool(h, entries);
      expect(got).toEqual(entries.map((e) => h.digest(e.path, e.st)));
      expect(new Set(got).size).toBeGreaterThan(70);
    } finally {
      h.close();
    }
    expect(openFds()).toBe(before);
  });

  it.each([
    // Another inode renamed over it (a new file could be given the freed inode number).
    ['replaced by another file', async (f: string) => fs.renameSync(path.join(path.dirname(f), 'f8'), f), /x\/f7: replaced while being hashed/],
    ['replaced by a FIFO', async (f: string) => (fs.rmSync(f), await run('mkfifo', [f])), /x\/f7: replaced while being hashed/],
    ['gone', async (f: string) => fs.rmSync(f), /hash .*x\/f7: ENOENT/],
  ])('names a file %s since the walk, and leaves no fd open', async (_, change, message) => {
    const root = path.join(dir, `changed-${Math.random().toString(36).slice(2)}`);
    fs.mkdirSync(path.join(root, 'x'), { recursive: true });
    const rels = Array.from({ length: 40 }, (_, i) => `x/f${i}`);
    for (const r of rels) fs.writeFileSync(path.join(root, r), r);
    const entries = seen(root, rels);
    await change(path.join(root, 'x/f7'));
    const before = openFds();
    const h = new DirHandles(root);
    try {
      await expect(digestsOnPool(h, entries)).rejects.toThrow(message);
    } finally {
      h.close();
    }
    expect(openFds()).toBe(before);
  });
});
