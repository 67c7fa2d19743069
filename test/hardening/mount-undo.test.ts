// A failure of `run` just after mount(2) mounted the overlay (reading the mount table back, recording the
// mount: EIO delivered by strace at each call there) leaves nothing mounted, and the next run mounts.
// Unmounting only the base bind would leave an overlay no run can take over.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchOverlay } from '../ops/scratch.js';
import { assertNothingLost, cli, mountsUnder, removeScratch } from './harness.js';
import { injectAt, tracePoints } from './strace.js';
import { sweepTemplate } from './sweep-case.js';

const t = sweepTemplate('so-mount-undo-');

describe('run failing right after the overlay was mounted', () => {
  // About a second a point; one whose errno lands on libuv's spawn pipe (the counts shift by a call) waits out
  // the 30 s injection timeout, and a recovery that hangs is stopped after 120 s and named: the budget allows
  // for both on a loaded machine rather than ending in a timeout that names no point.
  it('EIO at each of the calls after mount(2): nothing left mounted, the next run mounts', { timeout: 600_000 }, async () => {
    const reference = await t.copy();
    const points = await tracePoints(reference, ['run', 'opt']);
    await cli(reference, ['unmount', 'opt']);
    // The calls of mountOverlay after mount(2) returned: the mount table read back, the mount recorded.
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
      // The call counts of a run vary by a few (log lines, timing): the errno may land past mountOverlay,
      // on a write of state.json, a manifest or a pristine copy once the mount is complete, where the mount
      // rightly stays; or on a call of
      // another of Node's threads, whose abort (a signal, no message) is a crash like a kill: the mount stays
      // there too, and the next run below must still mount.
      const inMount = r.signal === null && !r.elsewhere && !/state\.json|manifests\/|pristine\//.test(r.stderr);
      if (r.code !== 0 && inMount) {
        failed++;
        expect(mountsUnder(root), `EIO at ${p.syscall} #${p.n} (${p.call}), exit ${r.code}: ${r.stderr}`).toEqual([]);
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

/**
 * A umount(8) that fails, as one does while some process briefly stands inside the new mount: a wrapper
 * first in PATH fails the first plain umount of each target (or every plain one), then runs the real one.
 */
function failingUmount(dir: string, always: boolean): string {
  const real = execFileSync('sh', ['-c', 'command -v umount'], { encoding: 'utf8' }).trim();
  fs.mkdirSync(path.join(dir, 'marks'), { recursive: true });
  const script = `#!/bin/sh
for a; do last=$a; done
[ "$1" = -l ] && exec ${real} "$@"
mark=${dir}/marks/$(printf %s "$last" | md5sum | cut -c1-32)
if ${always ? 'true' : '[ ! -e "$mark" ]'}; then : > "$mark"; echo "umount: $last: target is busy." >&2; exit 32; fi
exec ${real} "$@"
`;
  fs.writeFileSync(path.join(dir, 'umount'), script, { mode: 0o755 });
  return dir;
}

describe('undoing the mounts of a failed run', () => {
  it.each([
    ['once', false],
    ['every time (detached lazily)', true],
  ])('a umount that fails %s: nothing left mounted, the next run mounts', { timeout: 120_000 }, async (_, always) => {
    const reference = await t.copy();
    const points = await tracePoints(reference, ['run', 'opt']);
    await cli(reference, ['unmount', 'opt']);
    await removeScratch(reference);
    const recorded = points.find((p) => p.call.includes('mounted.json') && /O_CREAT|^rename/.test(p.call) && p.errnoReachesCode);
    expect(recorded).toBeDefined();
    const root = await t.copy();
    const { layout } = scratchOverlay(root).ov;
    const bin = failingUmount(`${root}.bin`, always);
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      const r = await injectAt(root, ['run', 'opt'], recorded!, 'EIO');
      expect(r.code, r.stderr).not.toBe(0);
      expect(fs.readdirSync(path.join(bin, 'marks')).length, 'the wrapper saw the undo').toBeGreaterThan(0);
    } finally {
      process.env.PATH = savedPath;
    }
    expect(mountsUnder(root)).toEqual([]);
    const again = await cli(root, ['run', 'opt']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(fs.readFileSync(path.join(layout.target, 'data/db'), 'utf8')).toBe('state\n');
    expect((await cli(root, ['unmount', 'opt'])).exitCode).toBe(0);
    assertNothingLost('disk faults', 'run: EIO at the mount record, umount failing', layout, t.original());
    fs.rmSync(bin, { recursive: true });
    await removeScratch(root);
  });
});
