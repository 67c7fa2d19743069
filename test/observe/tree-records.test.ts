// The `tree:` generation is walked in C (native treeRecords). It must give exactly what the walk in
// JavaScript gave (src/tree/walk.ts with bigint lstat, each record formatted in JavaScript): a host's
// recorded generation read by a newer build must not move, or every such host reconciles once for nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelPath } from '../../src/model/entry.js';
import { treeIdentity, treeWalk } from '../../src/observe/generation.js';
import { baseSkip, type BaseSkip } from '../../src/observe/submounts.js';
import { createContext } from '../../src/cli/context.js';
import { walk } from '../../src/tree/walk.js';
import { buildHostile, removeTree, scratch } from '../tree/fixtures.js';

/** The generation as the walk in JavaScript made it. */
function reference(baseDir: string, skip: (p: RelPath) => boolean = () => false): { generation: string; entries: number } {
  const h = crypto.createHash('sha256');
  let entries = 0;
  for (const e of walk(baseDir, { bigint: true, skip })) {
    const st = e.st;
    entries++;
    h.update(`${e.path}\0${e.type} ${st.mode} ${st.uid}:${st.gid} ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.ino}\n`, 'latin1');
  }
  h.update(`${treeIdentity(baseDir)}\n`);
  return { generation: `tree:${h.digest('hex')}`, entries };
}

describe('the tree generation walked in C', () => {
  let dir: string;
  beforeAll(async () => {
    dir = scratch('so-tree-records-');
    // Every entry type, names of every byte, invalid UTF-8 and a newline, hard links, a set-uid file, a
    // chain of 2100 directories; and times before 1970, a sparse file, a symlink to a directory.
    await buildHostile(dir);
    const old = [new Date('1960-01-01T00:00:00.500Z'), new Date('1969-12-31T23:59:59.250Z')] as const;
    fs.writeFileSync(path.join(dir, 'before-1970'), 'b');
    fs.utimesSync(path.join(dir, 'before-1970'), ...old);
    fs.mkdirSync(path.join(dir, 'dir-1960'));
    fs.utimesSync(path.join(dir, 'dir-1960'), ...old);
    fs.symlinkSync('sub', path.join(dir, 'to-sub'));
    const fd = fs.openSync(path.join(dir, 'sparse'), 'w');
    fs.ftruncateSync(fd, 64 << 20);
    fs.closeSync(fd);
  });
  afterAll(async () => {
    await removeTree(dir);
  });

  it('gives the generation and the count the walk in JavaScript gave, symlinks never followed', () => {
    const want = reference(dir);
    expect(want.entries).toBeGreaterThan(2100);
    expect(treeWalk(dir)).toEqual(want);
  });

  it('leaves out what skip holds for, asking it only in the directories it watches', () => {
    const asked: string[] = [];
    const test = (p: RelPath) => p === 'sub' || p === 'dd';
    const watched: BaseSkip = Object.assign((p: RelPath) => (asked.push(p), test(p)), { watch: ['' as RelPath] });
    const want = reference(dir, test);
    expect(treeWalk(dir, watched)).toEqual(want);
    expect(asked.length).toBe(fs.readdirSync(dir).length);
    expect(asked.every((p) => !p.includes('/'))).toBe(true);
    // A skip without a watch list is asked for every entry.
    asked.length = 0;
    const everywhere = (p: RelPath) => (asked.push(p), test(p));
    expect(treeWalk(dir, everywhere)).toEqual(want);
    expect(asked.length).toBe(want.entries + 2);
    // Watching a subdirectory: only its entries are asked about.
    asked.length = 0;
    const inSub: BaseSkip = Object.assign((p: RelPath) => (asked.push(p), p === 'sub/x'), { watch: ['sub' as RelPath] });
    expect(treeWalk(dir, inSub)).toEqual(reference(dir, (p) => p === 'sub/x'));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((p) => p.startsWith('sub/') && !p.slice(4).includes('/'))).toBe(true);
  });

  it('fails as the walk in JavaScript failed: the root by its path, with the errno', () => {
    expect(() => treeWalk(path.join(dir, 'missing'))).toThrow(`read directory ${path.join(dir, 'missing')}: ENOENT`);
    expect(() => treeWalk(path.join(dir, 'before-1970'))).toThrow(`read directory ${path.join(dir, 'before-1970')}: ENOTDIR`);
    // A failure of skip itself passes through as it is.
    const boom: BaseSkip = Object.assign(() => {
      throw new Error('skip failed');
    }, { watch: ['' as RelPath] });
    expect(() => treeWalk(dir, boom)).toThrow('skip failed');
  });

  it("an overlay of /usr: the shipped manifests and stores are left out by watching their one directory", () => {
    const root = scratch('so-tree-usr-');
    try {
      for (const [p, text] of [['usr/bin/tool', 'tool\n'], ['usr/lib/state-overlay/usr.conf', '[Paths]\n'], ['usr/lib/state-overlay/usr.manifest', 'm'], ['usr/lib/state-overlay/opt.pristine/ab', 'x'], ['usr/lib/state-overlay/usr.manifest.tmp-7', 't']] as const) {
        fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
        fs.writeFileSync(path.join(root, p), text);
      }
      const ov = createContext({ root }).overlay('usr');
      const skip = baseSkip(ov);
      expect(skip.watch).toContain('lib/state-overlay');
      const got = treeWalk(ov.base, skip);
      expect(got).toEqual(reference(ov.base, skip));
      expect(got).toEqual(treeWalk(ov.base, (p) => skip(p)));
      // The shipped files are left out (the directory's own entry and the image's drop-in are not).
      expect(got.entries).toBe(5);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails naming the entry that vanished after the listing, or the directory replaced before it was entered', () => {
    const base = scratch('so-tree-race-');
    try {
      for (const d of ['aa', 'swap', 'zz']) fs.mkdirSync(path.join(base, d));
      // skip runs between an entry's lstat and its opening: the race, made on purpose.
      const vanish: BaseSkip = Object.assign((p: RelPath) => (p === 'aa' && fs.rmdirSync(path.join(base, 'zz')), false), { watch: ['' as RelPath] });
      expect(() => treeWalk(base, vanish)).toThrow(`read ${base}/zz: ENOENT`);
      fs.mkdirSync(path.join(base, 'zz'));
      const swap: BaseSkip = Object.assign((p: RelPath) => {
        if (p === 'swap') {
          fs.renameSync(path.join(base, 'swap'), path.join(base, 'swapped'));
          fs.mkdirSync(path.join(base, 'swap'));
        }
        return false;
      }, { watch: ['' as RelPath] });
      expect(() => treeWalk(base, swap)).toThrow(`read ${base}/swap: ESTALE`);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
