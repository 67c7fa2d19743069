// Hostile uppers and bases through a real reconcile: symlinks out of the tree and in loops, every awkward
// byte in names, paths past PATH_MAX, 100k entries in one directory, chattr +i/+a, unreadable modes,
// sockets/FIFOs/devices and hardlinks shared with backups or with files outside. Nothing may be lost.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { restoreBackup } from '../../src/ops/restore.js';
import { defaultConfig } from '../../src/config/schema.js';
import { viewOf } from '../../src/manifest/store.js';
import type { BaseEntry, UpperEntry } from '../../src/model/entry.js';
import { planReconcile } from '../../src/plan/plan.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { fdPath } from '../../src/tree/fsat.js';
import { rel } from '../model/rel.js';
import { EVERY_BYTE, INVALID_UTF8, LONG, NEWLINE, bpath, mknod } from '../tree/fixtures.js';
import { actionsOf, buildCase, reconcileCase, tree, type CaseSpec } from './cases.js';
import { assertNothingLost, recordCase, scratchTop, snapshotTree } from './harness.js';

const scratch = scratchTop('so-hostile-', 'mode=0755,size=4g,nr_inodes=2m');
const fresh = () => scratch.next();

/** A UNIX socket file at file: bound beside it and hardlinked, as closing the server unlinks its own path. */
async function socketAt(file: string): Promise<void> {
  const tmp = `${file}.bind`;
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(tmp, resolve));
  fs.linkSync(tmp, file);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(tmp, { force: true });
}

const ODD_NAMES: Buffer[] = [Buffer.alloc(240, 0x6d), EVERY_BYTE, INVALID_UTF8, NEWLINE, LONG, Buffer.from('-rf'), Buffer.from(' lead'), Buffer.from('trail '), Buffer.from('*?[a]'), Buffer.from('back\\slash'), Buffer.from('x.rpmnew'), Buffer.from('\x1b[31mred')];

describe('hostile trees', () => {
  it('symlinks to absolute paths, loops, a symlink to / over a base directory and one out of the tree', async () => {
    const root = fresh();
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'victim'), 'outside content\n');
    const before = snapshotTree(outside);
    const c: CaseSpec = {
      name: 'symlinks absolute, loops, to /, out of the tree',
      v1: tree({ 'bin/abs': 'abs v1\n', 'lib/x': 'x v1\n', 'share/victim': 'v1\n', 'etc/a.conf': 'a v1\n' }),
      upper: async (u) => {
        await tree({ 'bin/loop1': { link: 'loop2' }, 'bin/loop2': { link: 'loop1' }, 'bin/self': { link: '.' }, 'bin/abs': { link: '/etc/passwd' } })(u);
        fs.symlinkSync('/', path.join(u, 'lib')); // a type change over a base directory
        fs.symlinkSync(outside, path.join(u, 'share')); // points out of the tree, where the base changed below
        fs.mkdirSync(path.join(u, 'etc'));
        fs.symlinkSync('/etc/shadow', path.join(u, 'etc/a.conf'));
      },
      v2: tree({ 'bin/abs': 'abs v2\n', 'lib/x': 'x v2\n', 'share/victim': 'v2\n', 'etc/a.conf': 'a v2\n' }),
    };
    const { s, original } = await buildCase(root, c);
    const report = await reconcileCase('hostile trees', c, s, original);
    expect(actionsOf(report)).toEqual(expect.arrayContaining(['move-to-backups 3 bin/abs', 'move-to-backups 3 etc/a.conf']));
    expect(snapshotTree(outside)).toEqual(before);
    expect(fs.readlinkSync(path.join(s.ov.layout.upper, 'bin/loop1'))).toBe('loop2');
    expect(fs.readFileSync('/etc/passwd', 'utf8').length).toBeGreaterThan(0);
  });

  it('names with every awkward byte, as shadows, state and config with sidecars', async () => {
    const root = fresh();
    const c: CaseSpec = {
      name: 'awkward bytes in names',
      config: { paths: { config: ['/opt/etc/**'] } } as never,
      v1: (b) => {
        for (const d of ['bin', 'etc']) fs.mkdirSync(path.join(b, d));
        for (const nm of ODD_NAMES) {
          fs.writeFileSync(bpath(b, 'bin', nm), 'v1\n');
          fs.writeFileSync(bpath(b, 'etc', nm), 'v1\n');
        }
      },
      upper: (u) => {
        for (const d of ['bin', 'etc', 'state']) fs.mkdirSync(path.join(u, d));
        for (const nm of ODD_NAMES) {
          fs.writeFileSync(bpath(u, 'bin', nm), 'edited\n');
          fs.writeFileSync(bpath(u, 'etc', nm), 'edited\n');
          fs.writeFileSync(bpath(u, 'state', nm), 'state\n');
        }
      },
      v2: (b) => {
        for (const nm of ODD_NAMES) {
          fs.writeFileSync(bpath(b, 'bin', nm), 'v2\n');
          fs.writeFileSync(bpath(b, 'etc', nm), 'v2\n');
        }
      },
    };
    const { s, original } = await buildCase(root, c);
    const report = await reconcileCase('hostile trees', c, s, original);
    // A sidecar name past NAME_MAX (255 bytes) cannot exist: the local file is kept and the plan says why.
    const fits = ODD_NAMES.filter((nm) => nm.length + '.rpmnew'.length <= 255);
    expect(report.dropped).toBe(ODD_NAMES.length);
    expect(report.sidecars).toBe(fits.length);
    expect(report.plan.conflicts.map((x) => x.reason)).toEqual(
      ODD_NAMES.filter((nm) => !fits.includes(nm)).map((nm) => `sidecar ${JSON.stringify(`etc/${nm.toString('latin1')}.rpmnew`)} not written: the name is longer than 255 bytes`),
    );
    for (const nm of ODD_NAMES) {
      const sidecar = Buffer.concat([bpath(s.ov.layout.upper, 'etc', nm), Buffer.from('.rpmnew')]);
      if (fits.includes(nm)) expect(fs.readFileSync(sidecar, 'utf8')).toBe('v2\n');
      expect(fs.readFileSync(bpath(s.ov.layout.upper, 'etc', nm), 'utf8')).toBe('edited\n');
      expect(fs.readFileSync(bpath(s.ov.layout.upper, 'state', nm), 'utf8')).toBe('state\n');
    }
    // `restore` brings every dropped name back, byte for byte.
    const set = report.backupSet!;
    const restored = await restoreBackup(s.ov, memoryLog(), set, []);
    expect(restored.restored).toHaveLength(ODD_NAMES.length);
    for (const nm of ODD_NAMES) expect(fs.readFileSync(bpath(s.ov.layout.upper, 'bin', nm), 'utf8')).toBe('edited\n');
    assertNothingLost('hostile trees', 'awkward bytes in names: restored', s.ov.layout, original);
  });

  it("upper entries named like the executor's temp files are user data and survive", async () => {
    const root = fresh();
    const c: CaseSpec = {
      name: 'entries named like temp files',
      config: { paths: { config: ['/opt/etc/**'] } } as never,
      v1: tree({ 'etc/c.conf': 'v1\n', [`etc/${'k'.repeat(250)}`]: 'v1\n' }),
      upper: tree({
        'etc/c.conf': 'edited\n',
        'etc/.c.conf.rpmnew.state-overlay-tmp': 'mine, not a temp file\n',
        [`etc/${'k'.repeat(250)}`]: 'edited\n',
        'etc/.state-overlay-copy': 'mine too\n',
      }),
      v2: tree({ 'etc/c.conf': 'v2\n', [`etc/${'k'.repeat(250)}`]: 'v2\n' }),
    };
    const { s, original } = await buildCase(root, c);
    const report = await reconcileCase('hostile trees', c, s, original);
    expect(report.sidecars).toBe(1);
    expect(fs.readFileSync(path.join(s.ov.layout.upper, 'etc/.c.conf.rpmnew.state-overlay-tmp'), 'utf8')).toBe('mine, not a temp file\n');
  });

  it('paths past 4096 bytes (20 components of 250 bytes): a deep shadow dropped, deep state kept', async () => {
    const root = fresh();
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(250, 0x61 + i));
    const chain = (dir: string, leaf: string, text: string) => {
      let fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      for (const p of parts) {
        fs.mkdirSync(fdPath(fd, p), { recursive: true });
        const next = fs.openSync(fdPath(fd, p), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
        fs.closeSync(fd);
        fd = next;
      }
      fs.writeFileSync(fdPath(fd, Buffer.from(leaf)), text);
      fs.closeSync(fd);
    };
    const c: CaseSpec = {
      name: 'paths past PATH_MAX',
      v1: (b) => chain(b, 'leaf', 'v1\n'),
      upper: (u) => {
        chain(u, 'leaf', 'edited\n');
        chain(u, 'state', 'state\n');
      },
      v2: (b) => chain(b, 'leaf', 'v2\n'),
    };
    const { s, original } = await buildCase(root, c);
    const leaf = [...parts.map((p) => p.toString('latin1')), 'leaf'].join('/');
    expect(leaf.length).toBeGreaterThan(4096);
    const report = await reconcileCase('hostile trees', c, s, original);
    expect(actionsOf(report).filter((a) => !a.startsWith('keep'))).toEqual([`move-to-backups 3 ${leaf}`]);
  });

  it('the planner takes an upper nested 5000 directories deep (no recursion limit)', () => {
    const dir = (p: string) => ({ path: rel(p), type: 'dir' as const, mode: 0o755, uid: 0, gid: 0, size: 0, digest: '', xattrs: '' });
    const base: BaseEntry[] = [];
    const upper: UpperEntry[] = [];
    let p = '';
    for (let i = 0; i < 5000; i++) {
      p = p ? `${p}/dd` : 'dd';
      base.push(dir(p));
      upper.push({ ...dir(p), kind: 'merged-dir' });
    }
    const leaf = { path: rel(`${p}/leaf`), type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 3, digest: 'v2' };
    upper.push({ ...leaf, kind: 'shadow', digest: 'edited' });
    const plan = planReconcile({ b0: viewOf([...base, { ...leaf, digest: 'v1' }]), b1: viewOf([...base, leaf]), upper, config: defaultConfig('opt', '/opt') });
    expect(plan.actions.filter((a) => a.kind === 'move-to-backups').map((a) => a.path)).toEqual([leaf.path]);
    // Every merged directory ends empty and identical to the base: removed, deepest first.
    expect(plan.actions.filter((a) => a.kind === 'remove-empty-dir')).toHaveLength(5000);
    recordCase('hostile trees', 'planner: 5000 nested directories');
  });

  it('100k entries in one directory', { timeout: 240_000 }, async () => {
    const root = fresh();
    const N = 100_000;
    const c: CaseSpec = {
      name: '100k entries in one directory',
      v1: (b) => {
        fs.mkdirSync(path.join(b, 'big'));
        for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(b, 'big', `s${i}`), `v1 ${i}\n`);
      },
      upper: (u) => {
        fs.mkdirSync(path.join(u, 'big'));
        for (let i = 0; i < N; i++) fs.writeFileSync(path.join(u, 'big', `f${i}`), '');
        for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(u, 'big', `s${i}`), `edited ${i}\n`);
      },
      v2: (b) => {
        for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(b, 'big', `s${i}`), `v2 ${i}\n`);
      },
    };
    const { s, original } = await buildCase(root, c);
    const started = Date.now();
    const report = await reconcileCase('hostile trees', c, s, original);
    const ms = Date.now() - started;
    expect(report.dropped).toBe(50);
    expect(fs.readdirSync(path.join(s.ov.layout.upper, 'big')).length).toBe(N + 50);
    process.stdout.write(`hardening: reconcile of ${N + 100} entries in one directory (two runs, nothing-lost check) took ${ms} ms\n`);
  });

  it('sockets, FIFOs, devices and whiteouts over changed base files are moved, as state they stay', async () => {
    const root = fresh();
    const kinds = ['sock', 'fifo', 'chr', 'blk', 'wh-chr', 'wh-x'];
    const c: CaseSpec = {
      name: 'sockets, FIFOs, devices, whiteouts',
      v1: tree(Object.fromEntries(kinds.map((k) => [`over/${k}`, `${k} v1\n`]))),
      upper: async (u) => {
        for (const d of ['over', 'state']) {
          fs.mkdirSync(path.join(u, d), { recursive: true });
          await socketAt(path.join(u, d, 'sock'));
          await run('mkfifo', [path.join(u, d, 'fifo')]);
          await mknod(path.join(u, d, 'chr'), 'c', 1, 3);
          await mknod(path.join(u, d, 'blk'), 'b', 7, 250);
        }
        await tree({ 'over/wh-chr': { whiteout: 'chardev' }, 'over/wh-x': { whiteout: 'xattr' } })(u);
      },
      v2: tree(Object.fromEntries(kinds.map((k) => [`over/${k}`, `${k} v2\n`]))),
    };
    const { s, original } = await buildCase(root, c);
    const report = await reconcileCase('hostile trees', c, s, original);
    expect(actionsOf(report).filter((a) => a.startsWith('move-to-backups')).sort()).toEqual(kinds.map((k) => `move-to-backups ${k.startsWith('wh') ? 4 : 3} over/${k}`).sort());
    expect(fs.readdirSync(path.join(s.ov.layout.upper, 'state')).sort()).toEqual(['blk', 'chr', 'fifo', 'sock']);
  });

  it('unreadable modes (000 files and directories) keep their modes through backups', async () => {
    const root = fresh();
    const c: CaseSpec = {
      name: 'unreadable modes',
      v1: tree({ 'bin/locked': 'v1\n', 'dir/inner': 'v1\n' }),
      upper: async (u) => {
        await tree({ 'bin/locked': { file: 'edited\n', mode: 0o000 }, 'private/secret': { file: 'secret\n', mode: 0o000 } })(u);
        fs.chmodSync(path.join(u, 'private'), 0o000);
        fs.mkdirSync(path.join(u, 'dir'), { mode: 0o000 });
        fs.writeFileSync(path.join(u, 'dir/inner'), 'edited\n', { mode: 0o000 });
        fs.chmodSync(path.join(u, 'dir'), 0o000);
      },
      v2: tree({ 'bin/locked': 'v2\n', 'dir/inner': 'v2\n' }),
    };
    const { s, original } = await buildCase(root, c);
    const report = await reconcileCase('hostile trees', c, s, original);
    expect(actionsOf(report)).toEqual(expect.arrayContaining(['move-to-backups 3 bin/locked', 'move-to-backups 3 dir/inner']));
    expect(fs.statSync(path.join(s.ov.layout.upper, 'private/secret')).mode & 0o777).toBe(0);
  });

  it('hardlinks shared between the upper, a file outside and a pruned backup set', async () => {
    const root = fresh();
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    const c: CaseSpec = {
      name: 'hardlinks across upper, outside and backups',
      config: { backups: { keep: 1 } } as never,
      v1: tree({ 'a/h1': 'v1\n', 'c/ext': 'v1\n' }),
      upper: (u) => {
        for (const d of ['a', 'b', 'c']) fs.mkdirSync(path.join(u, d));
        fs.writeFileSync(path.join(u, 'a/h1'), 'shared inode\n');
        fs.linkSync(path.join(u, 'a/h1'), path.join(u, 'b/h2')); // state, same inode as a shadow
        fs.writeFileSync(path.join(outside, 'ext'), 'outside inode\n');
        fs.linkSync(path.join(outside, 'ext'), path.join(u, 'c/ext'));
      },
      v2: tree({ 'a/h1': 'v2\n', 'c/ext': 'v2\n' }),
    };
    const { s, original } = await buildCase(root, c);
    const before = snapshotTree(outside);
    await reconcileCase('hostile trees', c, s, original);
    expect(snapshotTree(outside)).toEqual(before);
    expect(fs.readFileSync(path.join(s.ov.layout.upper, 'b/h2'), 'utf8')).toBe('shared inode\n');
    // Another update prunes that set (Backups.Keep=1): the upper's half of the hardlink must survive.
    fs.writeFileSync(path.join(s.ov.base, 'a/h1'), 'v3\n');
    fs.mkdirSync(path.join(s.ov.layout.upper, 'a'), { recursive: true });
    fs.writeFileSync(path.join(s.ov.layout.upper, 'a/h1'), 'edited again\n');
    const second = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen3' } });
    expect(second.dropped).toBe(1);
    expect(fs.readdirSync(s.ov.layout.backupsDir)).toHaveLength(1);
    expect(fs.readFileSync(path.join(s.ov.layout.upper, 'b/h2'), 'utf8')).toBe('shared inode\n');
    expect(snapshotTree(outside)).toEqual(before);
  });

  it('immutable and append-only entries: a clear error naming the file, a resumable journal, then convergence', async () => {
    const root = fresh();
    const c: CaseSpec = {
      name: 'chattr +i and +a',
      v1: tree({ 'bin/a': 'a v1\n', 'bin/imm': 'imm v1\n', 'bin/z': 'z v1\n', 'log/app': 'log v1\n', 'frozen/f': 'f v1\n' }),
      upper: tree({ 'bin/a': 'a edited\n', 'bin/imm': 'imm edited\n', 'bin/z': 'z edited\n', 'log/app': 'log edited\n', 'frozen/f': 'f edited\n' }),
      v2: tree({ 'bin/a': 'a v2\n', 'bin/imm': 'imm v2\n', 'bin/z': 'z v2\n', 'log/app': 'log v2\n', 'frozen/f': 'f v2\n' }),
    };
    const { s, original } = await buildCase(root, c);
    const u = s.ov.layout.upper;
    const flags: Array<[string, string, string]> = [
      ['+i', 'bin/imm', `move to backups ${u}/bin/imm: EPERM`],
      ['+i', 'frozen', `move to backups ${u}/frozen/f: EPERM`],
      ['+a', 'log/app', `move to backups ${u}/log/app: EPERM`],
    ];
    for (const [flag, p] of flags) await run('chattr', [flag, path.join(u, p)]);
    for (const [flag, p, message] of flags) {
      await expect(reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } })).rejects.toThrow(message);
      expect(fs.existsSync(s.ov.layout.journal)).toBe(true);
      assertNothingLost('hostile trees', `chattr ${flag} ${p}: refused`, s.ov.layout, original);
      await run('chattr', [flag.replace('+', '-'), path.join(u, p)]);
    }
    const done = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
    expect(done.resumed).toBe(true);
    expect(done.upToDate).toBe(true);
    expect(fs.existsSync(s.ov.layout.journal)).toBe(false);
    assertNothingLost('hostile trees', c.name, s.ov.layout, original);
    expect((await tryRun('lsattr', ['-d', path.join(u, 'frozen')])).stdout).not.toMatch(/^\S*i/);
  });
});
