// A failure of `run` just after mount(8) mounted the overlay (reading the mount table back, recording the
// mount: EIO delivered by strace at each call there) leaves nothing mounted, and the next run mounts.
// Unmounting only the base bind would leave an overlay no run can take over.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { scratchOverlay } from '../ops/scratch.js';
import { buildCliCase } from './cases.js';
import { assertNothingLost, cli, mountTmpfs, mountsUnder, removeScratch, scratchDir } from './harness.js';
import { injectAt, tracePoints } from './strace.js';
import { SWEEP_CASE, SWEEP_CONF } from './sweep-case.js';

let top: string;
let template: string;
let original: Map<string, string>;
let copies = 0;

async function copyOf(): Promise<string> {
  const root = path.join(top, `r${++copies}`);
  fs.mkdirSync(root);
  await run('cp', ['-a', '--', `${template}/.`, root]);
  return root;
}

beforeAll(async () => {
  top = scratchDir('so-mount-undo-');
  await mountTmpfs(top, 'mode=0755,size=256m');
  template = path.join(top, 'template');
  fs.mkdirSync(template);
  original = (await buildCliCase(template, SWEEP_CASE, SWEEP_CONF)).original;
});

afterAll(async () => {
  await removeScratch(top);
});

describe('run failing right after the overlay was mounted', () => {
  it('EIO at each of the calls after mount(2): nothing left mounted, the next run mounts', { timeout: 120_000 }, async () => {
    const reference = await copyOf();
    const points = await tracePoints(reference, ['run', 'opt']);
    await cli(reference, ['unmount', 'opt']);
    // The calls of mountOverlay after mount(8) returned: the mount table read back, the mount recorded.
    const recorded = points.findIndex((p) => p.call.includes('mounted.json') && /O_CREAT|^rename/.test(p.call));
    const readBack = points.slice(0, recorded).findLastIndex((p) => p.call.includes('"/proc/self/mountinfo"'));
    expect(readBack).toBeGreaterThan(0);
    const after = points.slice(readBack, recorded + 8).filter((p) => p.errnoReachesCode);
    let failed = 0;
    for (const p of after) {
      const root = await copyOf();
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
      assertNothingLost('disk faults', `run: EIO at ${p.syscall} #${p.n} after the overlay was mounted`, layout, original);
      await removeScratch(root);
    }
    expect(failed).toBeGreaterThan(0);
  });
});
