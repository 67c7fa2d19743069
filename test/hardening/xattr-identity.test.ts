// xattrs are part of an entry's identity: a copy-up the host gave an xattr, an ACL or a capability is not
// "identical to the base", and a directory carrying one is never removed for being empty. The upper's
// entries are compared whole (every xattr, any namespace) before and after.
import fs from 'node:fs';
import path from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { vacuumOverlay } from '../../src/ops/vacuum.js';
import { snapshotFull } from '../ops/scratch.js';
import { actionsOf, buildCase, reconcileCase, tree, type CaseSpec } from './cases.js';
import { assertNothingLost, scratchTop } from './harness.js';

// The system temp dir is ext4 here: user.* xattrs and ACLs (tmpfs of this kernel takes no user.* xattr).
const scratch = scratchTop('so-xattr-id-');

/** Every entry of the original upper, xattrs and all, is in the upper or in a backup set. */
function assertWhole(upper: string, backups: string, original: Map<string, string>, paths: readonly string[]): void {
  const now = snapshotFull(upper);
  const sets = fs.existsSync(backups) ? fs.readdirSync(backups).map((s) => snapshotFull(path.join(backups, s, 'upper'))) : [];
  const strip = (d: string | undefined) => d?.replace(/ mtime=\d+/, '');
  for (const p of paths) {
    const want = strip(original.get(p));
    expect(want, p).toBeDefined();
    const found = strip(now.get(p)) === want || sets.some((s) => strip(s.get(p)) === want);
    expect(found, `${p}: with its xattrs neither in the upper nor in backups`).toBe(true);
  }
}

const base = { 'bin/user': 'same\n', 'bin/acl': 'same\n', 'bin/cap': 'same\n', 'bin/plain': 'same\n', 'bin/tool': 'tool v1\n' };

function withXattrs(u: string): Promise<void> {
  return (async () => {
    await tree({ 'bin/user': 'same\n', 'bin/acl': 'same\n', 'bin/cap': 'same\n', 'bin/plain': 'same\n', 'share/keep': { dir: true }, 'share/plain': { dir: true }, 'old/kept': { dir: true } })(u);
    setAttributeSync(path.join(u, 'bin/user'), 'user.origin', 'host');
    await run('setfacl', ['-m', 'u:1000:r', path.join(u, 'bin/acl')]);
    await run('setcap', ['cap_net_bind_service=+ep', path.join(u, 'bin/cap')]);
    setAttributeSync(path.join(u, 'share/keep'), 'user.origin', 'host');
    setAttributeSync(path.join(u, 'old/kept'), 'user.origin', 'host');
  })();
}

const XATTR_PATHS = ['bin/user', 'bin/acl', 'bin/cap', 'share/keep', 'old/kept'];

describe('xattrs are part of identity', () => {
  it('reconcile keeps copy-ups that differ from the base only in xattrs, ACLs or capabilities, and directories carrying them', async () => {
    const c: CaseSpec = {
      name: 'xattr-only changes (reconcile)',
      v1: tree({ ...base, 'share/keep': { dir: true }, 'share/plain': { dir: true }, 'old/kept': { dir: true } }),
      upper: withXattrs,
      v2: (b) => {
        fs.writeFileSync(path.join(b, 'bin/tool'), 'tool v2\n');
        fs.rmSync(path.join(b, 'old'), { recursive: true });
      },
    };
    const root = scratch.next();
    const { s, original: plainOriginal } = await buildCase(root, c);
    const original = snapshotFull(s.ov.layout.upper);
    const report = await reconcileCase('hostile trees', c, s, plainOriginal);
    const acts = actionsOf(report);
    // The controls: a plain copy-up and an empty plain directory, identical to the base, still go.
    expect(acts).toEqual(expect.arrayContaining(['move-to-backups 1 bin/plain', 'remove-empty-dir 8 share/plain']));
    for (const p of ['bin/user', 'bin/acl', 'bin/cap', 'share/keep']) expect(acts.filter((a) => a.endsWith(` ${p}`) && !a.startsWith('keep'))).toEqual([]);
    assertWhole(s.ov.layout.upper, s.ov.layout.backupsDir, original, XATTR_PATHS);
  });

  it("reconcile compares with the base entry's own xattrs: the same pairs are a redundant copy, a copy that lost them is kept", async () => {
    const label = (p: string) => setAttributeSync(p, 'user.origin', 'image');
    const entries = { 'bin/labelled': 'same\n', 'bin/stripped': 'same\n', 'bin/plain': 'same\n', 'share/lab': { dir: true }, 'share/nolab': { dir: true } } as const;
    const c: CaseSpec = {
      name: 'base xattrs (reconcile)',
      v1: async (b) => {
        await tree({ ...entries, 'bin/tool': 'tool v1\n' })(b);
        for (const p of ['bin/labelled', 'bin/stripped', 'share/lab', 'share/nolab']) label(path.join(b, p));
      },
      upper: async (u) => {
        await tree(entries)(u);
        for (const p of ['bin/labelled', 'share/lab']) label(path.join(u, p));
      },
      v2: (b) => fs.writeFileSync(path.join(b, 'bin/tool'), 'tool v2\n'),
    };
    const root = scratch.next();
    const { s, original: plainOriginal } = await buildCase(root, c);
    const original = snapshotFull(s.ov.layout.upper);
    const acts = actionsOf(await reconcileCase('hostile trees', c, s, plainOriginal));
    expect(acts).toEqual(expect.arrayContaining(['move-to-backups 1 bin/labelled', 'move-to-backups 1 bin/plain', 'remove-empty-dir 8 share/lab']));
    for (const p of ['bin/stripped', 'share/nolab']) expect(acts.filter((a) => a.endsWith(` ${p}`) && !a.startsWith('keep'))).toEqual([]);
    assertWhole(s.ov.layout.upper, s.ov.layout.backupsDir, original, ['bin/labelled', 'bin/stripped', 'bin/plain']);
  });

  it('vacuum keeps copy-ups that differ from the base only in xattrs', async () => {
    const c: CaseSpec = {
      name: 'xattr-only changes (vacuum)',
      v1: tree({ ...base, 'share/keep': { dir: true }, 'share/plain': { dir: true }, 'old/kept': { dir: true } }),
      upper: withXattrs,
      v2: () => {},
    };
    const root = scratch.next();
    const { s, original: plainOriginal } = await buildCase(root, c);
    const original = snapshotFull(s.ov.layout.upper);
    const r = await vacuumOverlay(s.ov, memoryLog(), {});
    const acts = r.plan.actions.map((a) => `${a.kind} ${a.rule} ${a.path}`);
    expect(acts).toEqual(expect.arrayContaining(['move-to-backups 1 bin/plain', 'remove-empty-dir 8 share/plain']));
    expect(acts.filter((a) => XATTR_PATHS.some((p) => a.endsWith(` ${p}`)))).toEqual([]);
    assertWhole(s.ov.layout.upper, s.ov.layout.backupsDir, original, XATTR_PATHS);
    assertNothingLost('hostile trees', c.name, s.ov.layout, plainOriginal);
  });
});
