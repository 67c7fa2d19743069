// A mount below the base (a data volume at /opt/data): the base bind does not show it, so the base is
// what lies on the base's own filesystem. The generation and the manifest stay there too, the
// manifest is recorded, and an update judges the host's edits against it, never under rule 10.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { readState } from '../../src/state/state-file.js';
import { layoutFor } from '../../src/paths/layout.js';
import { assertNothingLost, cli, mountTmpfs, recordCase, scratchTop, snapshotUpper } from './harness.js';

const scratch = scratchTop('so-submount-');
const mounted: string[] = [];
afterEach(async () => {
  for (const m of mounted.splice(0).reverse()) await run('umount', ['-l', m]).catch(() => undefined);
});

describe('a mount below the base', () => {
  it('is left out of the generation and the manifest, which is recorded; the next update knows its B0', async () => {
    const root = scratch.next();
    const opt = path.join(root, 'opt');
    for (const [p, text] of Object.entries({ 'app/bin/tool': 'tool v1\n', 'app/etc/app.conf': 'port=80\n' })) {
      fs.mkdirSync(path.dirname(path.join(opt, p)), { recursive: true });
      fs.writeFileSync(path.join(opt, p), text);
    }
    fs.mkdirSync(path.join(opt, 'data'));
    await mountTmpfs(path.join(opt, 'data'), 'mode=0755');
    mounted.push(path.join(opt, 'data'));
    fs.writeFileSync(path.join(opt, 'data/db'), 'volume content\n');
    const layout = layoutFor(root, 'opt', '/opt');
    const first = await cli(root, ['-q', 'run', 'opt']);
    expect(first.exitCode, first.stderr).toBe(0);
    mounted.push(opt);
    fs.writeFileSync(path.join(opt, 'app/etc/app.conf'), 'port=8080\n');
    expect((await cli(root, ['-q', 'unmount', 'opt'])).exitCode).toBe(0);
    mounted.pop();
    const status = JSON.parse((await cli(root, ['--json', 'status', 'opt'])).stdout) as { overlays: { mount: { submounts: string[] } }[] };
    expect(status.overlays[0]!.mount.submounts).toEqual([path.join(opt, 'data')]);
    const state = readState(layout)!;
    expect(state.manifest, 'the manifest of the generation is recorded').not.toBeNull();
    expect(fs.existsSync(path.join(layout.manifestsDir, state.manifest!))).toBe(true);
    // An update of the base that leaves app.conf alone: the host's edit is kept under rule 2.
    const before = snapshotUpper(layout);
    fs.writeFileSync(path.join(opt, 'app/bin/tool'), 'tool v2\n');
    const plan = await cli(root, ['-v', 'reconcile', 'opt', '--dry-run']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).not.toMatch(/^rule 10 /m);
    expect(plan.stdout).toMatch(/^rule {2}2 {2}keep {8}\/opt\/app\/etc\/app\.conf /m);
    assertNothingLost('hostile trees', 'a mount below the base', layout, before);
    recordCase('hostile trees', 'a mount below the base: left out, manifest recorded');
  });
});
