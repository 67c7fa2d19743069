// Backups on another filesystem than the upper (rename gives EXDEV): every entry is copied, verified and
// only then removed, on the way into a set and back out of it (`restore`). Temp names of the copy never
// meet a host entry; every attribute (all xattrs, ACLs, file capabilities, mode, owner, times, hard
// links) survives both ways; subtrees deeper than PATH_MAX are copied and removed like any other.
import fs from 'node:fs';
import path from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { restoreBackup } from '../../src/ops/restore.js';
import { setTree } from '../../src/backups/sets.js';
import { lstatBeneath } from '../../src/tree/handles.js';
import { rel } from '../model/rel.js';
import { snapshotFull } from '../ops/scratch.js';
import { makeDeep } from '../tree/fixtures.js';
import { buildCase, buildCliCase, tree, type CaseSpec } from './cases.js';
import { assertNothingLost, cli, mountExt4, mountTmpfs, scratchTop } from './harness.js';
import { RICH } from './xfs-cases.js';

const scratch = scratchTop('so-xfs-');
const fresh = () => scratch.next();

type Built = Awaited<ReturnType<typeof buildCase>>;
const reconcile = (s: Built['s']) => reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });

describe('backups on another filesystem', () => {
  for (const kind of ['tmpfs', 'ext4'] as const) {
    it(`${kind}: a directory's every attribute survives the move into backups and the restore`, async () => {
      const root = fresh();
      const { s, original } = await buildCase(root, RICH);
      const { layout } = s.ov;
      if (kind === 'tmpfs') await mountTmpfs(layout.backupsDir, 'mode=0700,size=256m');
      else await mountExt4(layout.backupsDir, 256);
      const full = snapshotFull(path.join(layout.upper, 'turned'));
      const report = await reconcile(s);
      expect(report.dropped).toBe(1);
      expect(fs.existsSync(layout.journal)).toBe(false);
      assertNothingLost('disk faults', `${RICH.name} (${kind})`, layout, original);
      const set = setTree(layout, report.backupSet!);
      expect(snapshotFull(path.join(set, 'turned'))).toEqual(full);
      expect(fs.lstatSync(path.join(set, 'turned/sparse')).blocks * 512).toBeLessThan(1 << 20);
      expect(fs.existsSync(path.join(layout.upper, 'turned'))).toBe(false);

      const restored = await restoreBackup(s.ov, memoryLog(), report.backupSet!, []);
      expect(restored.restored).toEqual(['turned']);
      expect(snapshotFull(path.join(layout.upper, 'turned'))).toEqual(full);
      expect(fs.lstatSync(path.join(layout.upper, 'turned/sparse')).blocks * 512).toBeLessThan(1 << 20);
      expect(fs.existsSync(path.join(set, 'turned'))).toBe(false);
      assertNothingLost('disk faults', `${RICH.name} (${kind}): restored`, layout, original);
    });
  }

  it("an upper entry named like the copy's temp file is moved like any other, not removed", async () => {
    const root = fresh();
    const c: CaseSpec = {
      name: "EXDEV: upper entries named like the copy's temp file",
      v1: tree({ 'bin/.state-overlay-copy': 'v1\n', 'bin/f': 'f v1\n' }),
      upper: tree({ 'bin/.state-overlay-copy': 'mine, not a temp file\n', 'bin/f': 'f edited\n' }),
      v2: tree({ 'bin/.state-overlay-copy': 'v2\n', 'bin/f': 'f v2\n' }),
    };
    const { s, original } = await buildCase(root, c);
    const { layout } = s.ov;
    await mountTmpfs(layout.backupsDir, 'mode=0700,size=64m');
    const report = await reconcile(s);
    expect(report.dropped).toBe(2);
    const set = setTree(layout, report.backupSet!);
    expect(fs.readFileSync(path.join(set, 'bin/.state-overlay-copy'), 'utf8')).toBe('mine, not a temp file\n');
    assertNothingLost('disk faults', c.name, layout, original);

    // Back out of the set: a host file of that name in the upper stays where it is.
    fs.mkdirSync(path.join(layout.upper, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(layout.upper, 'bin/.state-overlay-copy'), 'written since\n');
    const restored = await restoreBackup(s.ov, memoryLog(), report.backupSet!, ['bin/f']);
    expect(restored.restored).toEqual(['bin/f']);
    expect(fs.readFileSync(path.join(layout.upper, 'bin/.state-overlay-copy'), 'utf8')).toBe('written since\n');
    expect(fs.readFileSync(path.join(layout.upper, 'bin/f'), 'utf8')).toBe('f edited\n');
    expect(fs.readdirSync(path.join(layout.upper, 'bin')).sort()).toEqual(['.state-overlay-copy', 'f']);
    expect(fs.readdirSync(path.join(set, 'bin'))).toEqual(['.state-overlay-copy']);
    assertNothingLost('disk faults', `${c.name}: restored`, layout, original);
  });

  it('a subtree deeper than PATH_MAX is copied into backups, verified, removed, and restored', { timeout: 180_000 }, async () => {
    const root = fresh();
    const DEPTH = 2100;
    const c: CaseSpec = {
      name: 'EXDEV: a subtree 2100 directories deep',
      v1: tree({ 'turned/a': 'a v1\n' }),
      upper: (u) => {
        fs.mkdirSync(path.join(u, 'turned'));
        makeDeep(path.join(u, 'turned'), 'dd', DEPTH);
      },
      v2: RICH.v2,
    };
    const { s, original } = await buildCase(root, c);
    const { layout } = s.ov;
    await mountTmpfs(layout.backupsDir, 'mode=0700,size=256m');
    const leaf = rel(['turned', ...Array.from({ length: DEPTH }, () => 'dd'), 'leaf'].join('/'));
    expect(leaf.length).toBeGreaterThan(4096);
    const report = await reconcile(s);
    expect(report.dropped).toBe(1);
    expect(fs.existsSync(layout.journal)).toBe(false);
    const set = setTree(layout, report.backupSet!);
    expect(lstatBeneath(set, leaf)?.size).toBe(7);
    expect(fs.existsSync(path.join(layout.upper, 'turned'))).toBe(false);
    assertNothingLost('disk faults', c.name, layout, original);

    await restoreBackup(s.ov, memoryLog(), report.backupSet!, []);
    expect(lstatBeneath(layout.upper, leaf)?.size).toBe(7);
    expect(fs.existsSync(path.join(set, 'turned'))).toBe(false);
    assertNothingLost('disk faults', `${c.name}: restored`, layout, original);
  });

  it('a backups filesystem that cannot hold xattrs: a clear refusal (exit 1), nothing moved, then convergence on one that can', async () => {
    const root = fresh();
    const c: CaseSpec = {
      name: 'EXDEV: backups on a filesystem without xattrs (ramfs)',
      v1: tree({ 'bin/f': 'f v1\n', 'bin/g': 'g v1\n' }),
      upper: async (u) => {
        await tree({ 'bin/f': 'f edited\n', 'bin/g': 'g edited\n' })(u);
        setAttributeSync(path.join(u, 'bin/g'), 'user.note', 'kept');
      },
      v2: tree({ 'bin/f': 'f v2\n', 'bin/g': 'g v2\n' }),
    };
    const { s, original } = await buildCliCase(root, c);
    const { layout } = s.ov;
    fs.mkdirSync(layout.backupsDir, { recursive: true, mode: 0o700 });
    await run('mount', ['-t', 'ramfs', '-o', 'mode=0700', 'ramfs', layout.backupsDir]);
    const full = snapshotFull(layout.upper);
    for (const attempt of ['first', 'again']) {
      const r = await cli(root, ['reconcile', 'opt']);
      expect(r.exitCode, r.stderr).toBe(1);
      const msg = r.stderr.split('\n')[0]!.replace(/^state-overlay: /, '');
      expect(msg).toMatch(new RegExp(`^cannot copy ${layout.upper}/bin/g to ${layout.backupsDir}/[^/]+/upper/bin/g on another filesystem: set xattr user.note on copy of ${layout.upper}/bin/g: ENOTSUP; left in place$`));
      expect(fs.existsSync(layout.journal)).toBe(true);
      assertNothingLost('disk faults', `${c.name}: refused (${attempt})`, layout, original);
      expect(snapshotFull(layout.upper).get('bin/g')).toBe(full.get('bin/g'));
    }
    // The operator gives backups/ a filesystem that holds xattrs, with what it held: the journal then completes.
    const staging = `${layout.backupsDir}.new`;
    await mountTmpfs(staging, 'mode=0700,size=64m');
    await run('cp', ['-a', '--', `${layout.backupsDir}/.`, staging]);
    await run('umount', [layout.backupsDir]);
    await run('mount', ['--move', staging, layout.backupsDir]);
    const r = await cli(root, ['reconcile', 'opt']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.existsSync(layout.journal)).toBe(false);
    assertNothingLost('disk faults', c.name, layout, original);
    const [set] = fs.readdirSync(layout.backupsDir);
    expect(snapshotFull(setTree(layout, set!)).get('bin/g')).toBe(full.get('bin/g'));
  });
});
