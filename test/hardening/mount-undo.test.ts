// A failure of `run` just after mount(8) mounted the overlay (reading the mount table back, recording the
// mount: EIO delivered by strace at each call there) leaves nothing mounted, and the next run mounts.
// Unmounting only the base bind would leave an overlay no run can take over.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchOverlay } from '../ops/scratch.js';
import { assertNothingLost, cli, mountsUnder, removeScratch } from './harness.js';
import { injectAt, tracePoints } from './strace.js';
import { sweepTemplate } from './sweep-case.js';

const t = sweepTemplate('so-mount-undo-');

describe('run failing right after the overlay was mounted', () => {
  it('EIO at each of the calls after mount(2): nothing left mounted, the next run mounts', { timeout: 120_000 }, async () => {
    const reference = await t.copy();
    const points = await tracePoints(reference, ['run', 'opt']);
    await cli(reference, ['unmount', 'opt']);
    // The calls of mountOverlay after mount(8) returned: the mount table read back, the mount recorded.
    const recorded = points.findIndex((p) => p.call.includes('mounted.json') && /O_CREAT|^rename/.test(p.call));
    const readBack = points.slice(0, recorded).findLastIndex((p) => p.call.includes('"/proc/self/mountinfo"'));
    expect(readBack).toBeGreaterThan(0);
    const after = points.slice(readBack, recorded + 8).filter((p) => p.errnoReachesCode);
    let failed = 0;
    for (const p of after) {
      const root = await t.copy();
      const { layout } = scratchOverlay(root).ov;
      const r = await injectAt(root, ['run', 'opt'], p, 'EIO');
      expect(r.stderr).not.toMatch(/^ {4}at /m);
      if (r.code !== 0) {
        failed++;
        expect(mountsUnder(root), `EIO at ${p.syscall} #${p.n} (${p.call}): ${r.stderr}`).toEqual([]);
      }
      const again = await cli(root, ['run', 'opt']);
      expect(again.exitCode, `after EIO at ${p.syscall} #${p.n} (${p.call}): ${again.stderr}`).toBe(0);
      expect(fs.readFileSync(path.join(layout.target, 'data/db'), 'utf8')).toBe('state\n');
      expect((await cli(root, ['unmount', 'opt'])).exitCode).toBe(0);
      assertNothingLost('disk faults', `run: EIO at ${p.syscall} #${p.n} after the overlay was mounted`, layout, t.original());
      await removeScratch(root);
    }
    expect(failed).toBeGreaterThan(0);
  });
});
