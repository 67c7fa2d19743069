// Reconcile=all against the scenario of ostree's destructive state-overlay test, on a scratch tree: the
// host writes through a real overlay mount (the kernel makes the whiteouts and opaque dirs), reboots
// without an upgrade (nothing changes), then upgrades (every shadow, whiteout and opaque dir is gone,
// state stays), exactly as `ostree admin state-overlay` prunes.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { readState } from '../../src/state/state-file.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, snapshot, writeTree } from './scratch.js';

let root: string;
beforeEach(() => {
  root = scratch('so-ostree-');
});
afterEach(async () => {
  await tryRun('umount', ['-R', path.join(root, 'opt')]);
  await removeTree(root);
});

async function mount(s: ReturnType<typeof scratchOverlay>): Promise<void> {
  const { upper, work, target } = s.ov.layout;
  fs.mkdirSync(upper, { recursive: true });
  fs.mkdirSync(work, { recursive: true });
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${target},upperdir=${upper},workdir=${work},index=off,metacopy=off,redirect_dir=off,xino=off`, target]);
}
const umount = (s: ReturnType<typeof scratchOverlay>) => run('umount', [s.ov.layout.target]);
const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

describe('Reconcile=all reproduces ostree state-overlay pruning', () => {
  it('keeps everything across a reboot without upgrade, and drops every shadow on upgrade', async () => {
    const s = scratchOverlay(root, { reconcile: 'all' });
    const opt = s.ov.base;
    await writeTree(opt, {
      'bin/tool': 'tool v1\n',
      'bin/other': 'other v1\n',
      'etc/app.conf': 'conf v1\n',
      'lib/dir/x': 'x v1\n',
      link: { link: 'bin/tool' },
      todelete: 'delete me\n',
      'replaced/y': 'y v1\n',
    });
    // First boot: adopted with no recorded generation (ostree: no checksum xattr yet), nothing to prune.
    await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'ostree:aaa' } });
    await mount(s);
    fs.writeFileSync(path.join(opt, 'newstate'), 'state\n');
    fs.writeFileSync(path.join(opt, 'lib/newfile'), 'state in a merged dir\n');
    fs.mkdirSync(path.join(opt, 'var-like/cache'), { recursive: true });
    fs.writeFileSync(path.join(opt, 'var-like/cache/blob'), 'blob\n');
    fs.writeFileSync(path.join(opt, 'bin/tool'), 'tool edited\n');
    fs.chmodSync(path.join(opt, 'etc/app.conf'), 0o600);
    fs.unlinkSync(path.join(opt, 'link'));
    fs.symlinkSync('bin/other', path.join(opt, 'link'));
    fs.unlinkSync(path.join(opt, 'bin/other'));
    fs.mkdirSync(path.join(opt, 'bin/other'));
    fs.writeFileSync(path.join(opt, 'bin/other/inside'), 'type change\n');
    fs.unlinkSync(path.join(opt, 'todelete'));
    fs.rmSync(path.join(opt, 'replaced'), { recursive: true });
    fs.mkdirSync(path.join(opt, 'replaced'));
    fs.writeFileSync(path.join(opt, 'replaced/z'), 'z mine\n');
    await umount(s);
    const kinds = snapshot(s.ov.layout.upper);
    expect(kinds.get('todelete')).toMatch(/^chr 0 0:0 0 /);
    expect(kinds.get('replaced')).toMatch(/^dir .* y$/);
    expect(kinds.get('bin/other')).toMatch(/^dir .* y$/);

    // Reboot without an upgrade: same generation, nothing changes.
    const upper = snapshot(s.ov.layout.upper);
    const r1 = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'ostree:aaa' } });
    expect(r1.upToDate).toBe(true);
    expect(snapshot(s.ov.layout.upper)).toEqual(upper);
    await mount(s);
    expect(read(opt, 'bin/tool')).toBe('tool edited\n');
    expect(fs.existsSync(path.join(opt, 'todelete'))).toBe(false);
    expect(fs.readdirSync(path.join(opt, 'replaced'))).toEqual(['z']);
    await umount(s);

    // Upgrade: a new deployment, even one that touches none of the edited paths.
    fs.writeFileSync(path.join(opt, 'bin/new'), 'new in v2\n');
    const r2 = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'ostree:bbb' } });
    expect(r2.plan.actions.map((a) => `${a.kind} ${a.path} ${a.rule}`)).toEqual([
      'move-to-backups bin/other 3',
      'move-to-backups bin/tool 3',
      'move-to-backups etc/app.conf 3',
      'move-to-backups link 3',
      'move-to-backups replaced 7',
      'move-to-backups todelete 4',
    ]);
    expect(readState(s.ov.layout)?.generation).toBe('ostree:bbb');
    await mount(s);
    expect(read(opt, 'bin/tool')).toBe('tool v1\n');
    expect(read(opt, 'bin/other')).toBe('other v1\n');
    expect((fs.statSync(path.join(opt, 'etc/app.conf')).mode & 0o777).toString(8)).toBe('644');
    expect(fs.readlinkSync(path.join(opt, 'link'))).toBe('bin/tool');
    expect(read(opt, 'todelete')).toBe('delete me\n');
    expect(fs.readdirSync(path.join(opt, 'replaced'))).toEqual(['y']);
    // State carried forward.
    expect(read(opt, 'newstate')).toBe('state\n');
    expect(read(opt, 'lib/newfile')).toBe('state in a merged dir\n');
    expect(read(opt, 'var-like/cache/blob')).toBe('blob\n');
    expect(read(opt, 'bin/new')).toBe('new in v2\n');
    await umount(s);
    // Unlike ostree, nothing was deleted: every dropped entry is in the backup set.
    const sets = fs.readdirSync(s.ov.layout.backupsDir);
    expect(sets).toHaveLength(1);
    expect(read(path.join(s.ov.layout.backupsDir, sets[0]!, 'upper'), 'bin/tool')).toBe('tool edited\n');
    expect(read(path.join(s.ov.layout.backupsDir, sets[0]!, 'upper'), 'replaced/z')).toBe('z mine\n');
  });
});
