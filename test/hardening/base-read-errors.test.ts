// An I/O error opening a directory below the base or the upper (EIO delivered by strace at that call) is an
// error of the command that names the directory: never a generation, manifest or plan of part of a tree.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scratchOverlay } from '../ops/scratch.js';
import { readState } from '../../src/state/state-file.js';
import { assertNothingLost, cli, recordCase, removeScratch } from './harness.js';
import { injectAt, tracePoints } from './strace.js';
import { sweepTemplate } from './sweep-case.js';

const t = sweepTemplate('so-base-eio-');

describe('EIO opening a directory of the base or the upper', () => {
  it.each([['index'], ['reconcile']])('%s fails naming it; the next run records the whole base', async (command) => {
    const args = [command, 'opt'];
    // Every open of opq/ (the base's and the upper's) in an uninterrupted run: each walk that reads them,
    // by its name in its parent's fd (the walk) or through /proc/self/fd (the other readers).
    const opq = /^openat\((AT_FDCWD, "\/proc\/self\/fd\/\d+\/|\d+, ")opq", .*O_DIRECTORY/;
    const opens = (await tracePoints(await t.copy(), args)).filter((p) => p.syscall === 'openat' && opq.test(p.call));
    expect(opens.length).toBeGreaterThan(0);
    let named = 0;
    for (const p of opens) {
      // Tried again (three times at most) while the errno lands elsewhere: under load the counts shift more.
      for (let attempt = 0, hitOpq = false; attempt < 3 && !hitOpq; attempt++) {
        const root = await t.copy();
        const { layout } = scratchOverlay(root).ov;
        const r = await injectAt(root, args, p, 'EIO');
        // The n-th open of an index is not always the same one (the hash pool runs beside the walk).
        expect(r.code, `EIO at openat #${p.n}: ${r.stdout}`).not.toBe(0);
        // The call counts of a run shift by a few: where the errno went to another open (the mount table, say),
        // that is the file the message names; where it went to opq/, the directory.
        hitOpq = r.hit !== undefined && opq.test(r.hit);
        if (hitOpq) {
          named++;
          expect(r.stderr).toMatch(new RegExp(`^state-overlay: .*${root}/(opt|var/lib/state-overlay/opt/upper)/\\w+`, 'm'));
        } else expect(r.stderr, `EIO at ${r.hit ?? 'no call'}`).toMatch(/^state-overlay: /m);
        expect(r.stderr).toMatch(/\bEIO\b/);
        expect(r.stderr).not.toMatch(/^ {4}at /m);
        // A generation of part of the base is never recorded: what is recorded was read whole.
        const gen = readState(layout)!.generation;
        expect(gen === 'gen1' || fs.readdirSync(layout.manifestsDir).every((m) => m === 'gen1.manifest' || m === `${gen}.manifest`)).toBe(true);
        const again = await cli(root, args);
        expect(again.exitCode, again.stderr).toBe(0);
        const kept = fs.readdirSync(layout.manifestsDir).filter((m) => m !== 'gen1.manifest');
        expect(kept).toHaveLength(1);
        if (command === 'reconcile') expect(readState(layout)!.manifest).toBe(kept[0]);
        expect(fs.existsSync(layout.journal)).toBe(false);
        assertNothingLost('disk faults', `${command}: EIO opening opq/ (openat #${p.n})`, layout, t.original());
        await removeScratch(root);
      }
    }
    expect(named, 'no run got the errno at an open of opq/').toBeGreaterThan(0);
    recordCase('disk faults', `${command}: ${opens.length} opens of opq/ failed with EIO`);
  });

  it('reconcile opens every directory from its parent\'s fd (openat), never through a /proc/self/fd path', async () => {
    const root = await t.copy();
    const points = await tracePoints(root, ['reconcile', 'opt']);
    const opens = points.filter((p) => p.syscall === 'openat');
    // The walks, the bases' and the upper's handles (O_PATH), the executor's handles (O_RDONLY).
    for (const kind of [/O_PATH/, /O_RDONLY(?!.*O_PATH)/]) {
      expect(opens.filter((p) => /^openat\(\d+, "opq", .*O_DIRECTORY/.test(p.call) && kind.test(p.call)).length).toBeGreaterThan(0);
    }
    expect(opens.filter((p) => /^openat\(AT_FDCWD, "\/proc\/self\/fd\/\d+\/[^"]+", .*O_DIRECTORY/.test(p.call)).map((p) => p.call)).toEqual([]);
    await removeScratch(root);
  });
});
