// The executor's filesystem steps: idempotent, never through a symlink, cross-filesystem moves verified.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { sha256 } from '../../src/tree/digest.js';
import { StaleAction, moveBetween, removeEmptyDir, renameWithin, setAttrs } from '../../src/txn/apply.js';
import { writeSidecar } from '../../src/txn/sidecar.js';
import { bpath, INVALID_UTF8, rel, removeTree, scratch } from '../tree/fixtures.js';
import { snapshot, writeTree } from '../ops/scratch.js';

let root: string;
let upper: string;
let tree: string;
beforeEach(() => {
  root = scratch('so-apply-');
  upper = path.join(root, 'upper');
  tree = path.join(root, 'backup');
  fs.mkdirSync(upper);
  fs.mkdirSync(tree);
});
afterEach(async () => {
  await tryRun('umount', [tree]);
  await removeTree(root);
});

describe('moveBetween', () => {
  it('moves a subtree keeping its relative path, and a repeat is a no-op', async () => {
    await writeTree(upper, { 'a/b/c': 'c\n', 'a/b/d': { link: '/etc/passwd' }, 'a/b/w': { whiteout: 'chardev' } });
    const before = snapshot(path.join(upper, 'a'));
    await moveBetween(upper, tree, rel('a/b'));
    await moveBetween(upper, tree, rel('a/b'));
    expect(fs.readdirSync(path.join(upper, 'a'))).toEqual([]);
    expect(snapshot(path.join(tree, 'a'))).toEqual(before);
  });

  it('moves names that are not UTF-8', async () => {
    fs.mkdirSync(bpath(upper, INVALID_UTF8), { recursive: true });
    fs.writeFileSync(bpath(upper, INVALID_UTF8, INVALID_UTF8), 'odd\n');
    await moveBetween(upper, tree, rel(INVALID_UTF8, INVALID_UTF8));
    expect(fs.readFileSync(bpath(tree, INVALID_UTF8, INVALID_UTF8), 'utf8')).toBe('odd\n');
  });

  it('never follows a symlink in the upper path', async () => {
    fs.mkdirSync(path.join(root, 'outside'));
    fs.writeFileSync(path.join(root, 'outside/secret'), 'host data\n');
    fs.symlinkSync(path.join(root, 'outside'), path.join(upper, 'dir'));
    await expect(moveBetween(upper, tree, rel('dir/secret'))).rejects.toThrow(`${upper}/dir/secret is gone and not in ${tree}/dir/secret either`);
    expect(fs.readFileSync(path.join(root, 'outside/secret'), 'utf8')).toBe('host data\n');
  });

  it('copies across filesystems, verifies, then removes the original', async () => {
    await run('mount', ['-t', 'tmpfs', 'tmpfs', tree]);
    await writeTree(upper, { 'x/opaque': { dir: true, opaque: true }, 'x/opaque/f': { file: 'f\n', mode: 0o640, uid: 7 }, 'x/w': { whiteout: 'xattr' }, 'x/l': { link: 'target' } });
    const before = snapshot(path.join(upper, 'x'));
    for (const p of ['x/opaque', 'x/w', 'x/l']) await moveBetween(upper, tree, rel(p));
    expect(fs.readdirSync(path.join(upper, 'x'))).toEqual([]);
    expect(snapshot(path.join(tree, 'x'))).toEqual(before);
  });
});

describe('renameWithin, writeSidecar, setAttrs, removeEmptyDir', () => {
  it('renames aside once, and refuses to replace an existing entry', async () => {
    await writeTree(upper, { 'etc/a': 'mine\n', 'etc/b': 'b\n', 'etc/b.rpmsave': 'old\n' });
    renameWithin(upper, rel('etc/a'), rel('etc/a.rpmsave'));
    renameWithin(upper, rel('etc/a'), rel('etc/a.rpmsave'));
    expect(fs.readFileSync(path.join(upper, 'etc/a.rpmsave'), 'utf8')).toBe('mine\n');
    expect(() => renameWithin(upper, rel('etc/b'), rel('etc/b.rpmsave'))).toThrow(`cannot move ${upper}/etc/b aside: ${upper}/etc/b.rpmsave exists`);
  });

  it('writes a verified sidecar from the base, with its mode and owner', async () => {
    const base = path.join(root, 'base');
    await writeTree(base, { 'etc/a': { file: 'new\n', mode: 0o640, uid: 5, gid: 6 }, 'etc/l': { link: 'somewhere' } });
    await writeTree(upper, { 'etc/a': 'mine\n' });
    const a = { kind: 'write-sidecar' as const, path: rel('etc/a.rpmnew'), from: rel('etc/a'), type: 'file' as const, digest: sha256('new\n'), mode: 0o640, uid: 5, gid: 6, rule: 3 as const, reason: 'r' };
    writeSidecar(base, upper, a);
    writeSidecar(base, upper, a);
    const st = fs.statSync(path.join(upper, 'etc/a.rpmnew'));
    expect([fs.readFileSync(path.join(upper, 'etc/a.rpmnew'), 'utf8'), st.mode & 0o777, st.uid, st.gid]).toEqual(['new\n', 0o640, 5, 6]);
    writeSidecar(base, upper, { ...a, path: rel('etc/l.rpmnew'), from: rel('etc/l'), type: 'symlink', digest: sha256('somewhere') });
    expect(fs.readlinkSync(path.join(upper, 'etc/l.rpmnew'))).toBe('somewhere');
    expect(() => writeSidecar(base, upper, { ...a, path: rel('etc/b.rpmnew'), digest: sha256('other') })).toThrow(`${base}/etc/a changed since it was hashed: sidecar not written`);
    expect(fs.readdirSync(path.join(upper, 'etc')).sort()).toEqual(['a', 'a.rpmnew', 'l.rpmnew']);
  });

  it('sets directory attributes and removes empty directories only', async () => {
    await writeTree(upper, { d: { dir: true, mode: 0o700 }, 'e/f': 'f\n' });
    setAttrs(upper, { kind: 'set-attrs', path: rel('d'), mode: 0o750, uid: 3, gid: 4, rule: 8, reason: 'r' });
    const st = fs.statSync(path.join(upper, 'd'));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o750, 3, 4]);
    removeEmptyDir(upper, rel('d'));
    removeEmptyDir(upper, rel('d'));
    expect(fs.existsSync(path.join(upper, 'd'))).toBe(false);
    expect(() => removeEmptyDir(upper, rel('e'))).toThrow(`remove directory ${upper}/e: ENOTEMPTY`);
  });
});

describe('an action whose premise no longer holds is a StaleAction: nothing done, nothing lost', () => {
  const stale = (fn: () => unknown, message: string) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StaleAction);
    expect((err as Error).message).toBe(message);
  };

  it('a saved name taken, or an entry gone, since the plan was made', async () => {
    await writeTree(upper, { 'etc/b': 'b\n', 'etc/b.rpmsave': 'old\n' });
    stale(() => renameWithin(upper, rel('etc/b'), rel('etc/b.rpmsave')), `cannot move ${upper}/etc/b aside: ${upper}/etc/b.rpmsave exists: left in place`);
    stale(() => renameWithin(upper, rel('etc/none'), rel('etc/none.rpmsave')), `${upper}/etc/none is gone and ${upper}/etc/none.rpmsave does not exist: nothing to move aside`);
    expect(snapshot(upper).size).toBe(3);
  });

  it("a sidecar's base file changed or gone, or its name taken with other content", async () => {
    const base = path.join(root, 'base');
    await writeTree(base, { 'etc/a': 'new\n' });
    await writeTree(upper, { 'etc/a': 'mine\n', 'etc/t.rpmnew': 'not the sidecar\n' });
    const a = { kind: 'write-sidecar' as const, path: rel('etc/a.rpmnew'), from: rel('etc/a'), type: 'file' as const, digest: sha256('old\n'), mode: 0o644, uid: 0, gid: 0, rule: 3 as const, reason: 'r' };
    stale(() => writeSidecar(base, upper, a), `${base}/etc/a changed since it was hashed: sidecar not written`);
    stale(() => writeSidecar(base, upper, { ...a, from: rel('etc/gone') }), `${base}/etc/gone is no longer a regular file: sidecar not written`);
    stale(() => writeSidecar(base, upper, { ...a, type: 'symlink' }), `${base}/etc/a is no longer a symlink: sidecar not written`);
    stale(() => writeSidecar(base, upper, { ...a, path: rel('etc/t.rpmnew'), digest: sha256('new\n') }), `${upper}/etc/t.rpmnew exists with other content: sidecar not written`);
    // The base itself gone (its bind unmounted) changed no premise: an error, the journal kept for a run that can read it.
    let err: unknown;
    try {
      writeSidecar(path.join(root, 'no-base'), upper, { ...a, digest: sha256('new\n') });
    } catch (e) {
      err = e;
    }
    expect(err).not.toBeInstanceOf(StaleAction);
    expect((err as Error).message).toBe(`read ${root}/no-base/etc/a: ENOENT`);
    expect(fs.readdirSync(path.join(upper, 'etc')).sort()).toEqual(['a', 't.rpmnew']);
  });

  it('attrs of a directory gone are done; of one turned into a file, or an rmdir of a directory not empty, are stale', async () => {
    await writeTree(upper, { 'd/f': 'f\n', x: 'a file now\n' });
    const attrs = { kind: 'set-attrs' as const, mode: 0o750, uid: 3, gid: 4, rule: 9 as const, reason: 'r' };
    setAttrs(upper, { ...attrs, path: rel('gone') });
    setAttrs(upper, { ...attrs, path: rel('gone/deeper') });
    stale(() => setAttrs(upper, { ...attrs, path: rel('x') }), `${upper}/x is no longer a directory: mode and owner not set`);
    stale(() => removeEmptyDir(upper, rel('d')), `remove directory ${upper}/d: ENOTEMPTY: it holds what the plan did not leave there; kept`);
    stale(() => removeEmptyDir(upper, rel('x')), `${upper}/x is no longer a directory: left in place`);
    expect(fs.readFileSync(path.join(upper, 'd/f'), 'utf8')).toBe('f\n');
  });
});
