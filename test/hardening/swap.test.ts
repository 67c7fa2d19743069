// Swaps between plan and apply: the plan is made durable (the run stops after its first action), then a
// directory the rest of the plan acts in is replaced by a symlink to a scratch directory outside. The
// resumed run must not change anything through the symlink; once the directory is back it converges.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLog } from '../../src/log/logger.js';
import { FAULT_ENV } from '../../src/txn/fault.js';
import { readJournal } from '../../src/txn/journal.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import type { Layout } from '../../src/paths/layout.js';
import { buildCase, tree, type CaseSpec } from './cases.js';
import { assertNothingLost, scratchTop, snapshotTree } from './harness.js';

const scratch = scratchTop('so-swap-', 'mode=0755,size=256m');
afterEach(() => {
  delete process.env[FAULT_ENV];
});

const files = (prefix: string, v: string) => Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`${prefix}/f${i}`, `${prefix} f${i} ${v}\n`]));
const CASE: CaseSpec = {
  name: 'swap',
  v1: tree({ ...files('a', 'v1'), ...files('b/deep', 'v1') }),
  upper: tree({ ...files('a', 'edited'), ...files('b/deep', 'edited') }),
  v2: tree({ ...files('a', 'v2'), ...files('b/deep', 'v2') }),
};

/** Where a swap happens, relative to the layout, and the message the resumed run must fail with. */
interface Swap {
  readonly name: string;
  readonly dir: (l: Layout, set: string) => string;
  readonly message: (l: Layout, set: string) => string;
}
const SWAPS: Swap[] = [
  { name: 'an upper directory holding entries still to move', dir: (l) => path.join(l.upper, 'b'), message: (l) => `${l.upper}/b/deep/f0 is gone and not in` },
  { name: 'the whole upper', dir: (l) => l.upper, message: (l) => `${l.upper} is a symlink` },
  { name: 'the backup set directory', dir: (l, set) => path.join(l.backupsDir, set), message: (l, set) => `${path.join(l.backupsDir, set)} is a symlink` },
  { name: "the backup set's tree", dir: (l, set) => path.join(l.backupsDir, set, 'upper'), message: (l, set) => `${path.join(l.backupsDir, set, 'upper')} is a symlink` },
  { name: 'the backups directory', dir: (l) => l.backupsDir, message: (l) => `${l.backupsDir} is a symlink` },
];

describe('swap attacks between plan and apply', () => {
  it.each(SWAPS)('$name replaced by a symlink out of the tree: nothing outside changes, then it converges', async (swap) => {
    const root = scratch.next();
    const { s, original } = await buildCase(root, { ...CASE, name: `swap ${swap.name}` });
    const { layout } = s.ov;
    process.env[FAULT_ENV] = '1';
    await expect(reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } })).rejects.toThrow('test-only fault point');
    delete process.env[FAULT_ENV];
    const set = readJournal(layout)!.set;

    // The swap: the real directory moved aside, a symlink to a look-alike outside in its place.
    const real = swap.dir(layout, set);
    const aside = `${real}.aside`;
    const outside = path.join(root, 'outside');
    fs.cpSync(real, outside, { recursive: true });
    fs.renameSync(real, aside);
    fs.symlinkSync(outside, real);
    const before = snapshotTree(outside);

    await expect(reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } })).rejects.toThrow(swap.message(layout, set));
    expect(snapshotTree(outside)).toEqual(before);
    expect(fs.existsSync(layout.journal)).toBe(true);

    fs.unlinkSync(real);
    fs.renameSync(aside, real);
    const done = await reconcileOverlay(s.ov, memoryLog(), { current: { generation: 'gen2' } });
    expect(done.resumed).toBe(true);
    expect(fs.existsSync(layout.journal)).toBe(false);
    expect(snapshotTree(outside)).toEqual(before);
    assertNothingLost('swap attacks', `swap ${swap.name}`, layout, original);
  });
});
