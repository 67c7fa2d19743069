// The VM suite's in-place change of a shared base directory between boots (10-virtiofs): only what
// differs is touched, a changed file keeps its inode, and the tree ends up exactly as specified.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { updateTree, type BaseSpec } from '../../../vm-tests/lib/bases.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-vm-bases-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const a: BaseSpec = {
  entries: {
    'app/VERSION': '1',
    'app/bin/tool': { file: '#!/bin/sh\n', mode: 0o755 },
    'app/link': { symlink: 'bin/tool' },
    'app/old.txt': 'old\n',
    'app/turned/f.txt': 'in a dir\n',
    'app/same.txt': 'same\n',
  },
};
const b: BaseSpec = {
  entries: {
    'app/VERSION': '2',
    'app/bin/tool': { file: '#!/bin/sh\n', mode: 0o700 },
    'app/link': { symlink: 'bin/tool2' },
    'app/turned': 'a file now\n',
    'app/same.txt': 'same\n',
    'app/new/n.txt': 'new\n',
  },
};

/** path → type and content (or target), and mode, of every entry under ROOT. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const p = path.join(root, r);
      const st = fs.lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `-> ${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else out[r] = `file ${mode} ${fs.readFileSync(p, 'utf8')}`;
    }
  };
  walk('');
  return out;
}

describe('updateTree', () => {
  const root = path.join(dir, 'share');

  it('writes the whole tree into an absent directory', () => {
    expect(updateTree(root, a)).toEqual(['app/VERSION', 'app/bin/tool', 'app/link', 'app/old.txt', 'app/same.txt', 'app/turned/f.txt']);
    expect(snapshot(root)).toEqual({
      app: 'dir 755',
      'app/VERSION': 'file 644 1',
      'app/bin': 'dir 755',
      'app/bin/tool': 'file 755 #!/bin/sh\n',
      'app/link': '-> bin/tool',
      'app/old.txt': 'file 644 old\n',
      'app/same.txt': 'file 644 same\n',
      'app/turned': 'dir 755',
      'app/turned/f.txt': 'file 644 in a dir\n',
    });
  });

  it('changes nothing when the tree already holds the spec', () => {
    const before = fs.statSync(path.join(root, 'app/VERSION'));
    expect(updateTree(root, a)).toEqual([]);
    const after = fs.statSync(path.join(root, 'app/VERSION'));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('turns it into another spec touching only what differs, rewriting changed files in place', () => {
    const ino = (rel: string) => fs.statSync(path.join(root, rel)).ino;
    const [version, same] = [ino('app/VERSION'), ino('app/same.txt')];
    expect(updateTree(root, b)).toEqual(['app/VERSION', 'app/bin/tool', 'app/link', 'app/new/n.txt', 'app/old.txt', 'app/turned', 'app/turned/f.txt']);
    expect(snapshot(root)).toEqual({
      app: 'dir 755',
      'app/VERSION': 'file 644 2',
      'app/bin': 'dir 755',
      'app/bin/tool': 'file 700 #!/bin/sh\n',
      'app/link': '-> bin/tool2',
      'app/new': 'dir 755',
      'app/new/n.txt': 'file 644 new\n',
      'app/same.txt': 'file 644 same\n',
      'app/turned': 'file 644 a file now\n',
    });
    expect([ino('app/VERSION'), ino('app/same.txt')]).toEqual([version, same]);
  });

  it('replaces a file where the spec needs a directory above its entries', () => {
    expect(updateTree(root, { entries: { 'app/turned/deep.txt': 'deep\n' } })).toContain('app/turned');
    expect(snapshot(root)).toEqual({ app: 'dir 755', 'app/turned': 'dir 755', 'app/turned/deep.txt': 'file 644 deep\n' });
  });
});
