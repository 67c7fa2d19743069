// A base that is not there in practice: an empty directory where the recorded or shipped manifest lists
// entries (an image volume that failed to mount, a tmpfs over the mountpoint), and a shipped manifest of
// another tree. Read as the new base they would drop every shadow; they are refused, nothing changes and
// nothing is mounted, and --force overrides.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { readState } from '../../src/state/state-file.js';
import { layoutFor } from '../../src/paths/layout.js';
import { readMountinfo } from '../../src/mount/mountinfo.js';
import { assertNothingLost, cli, mountTmpfs, mountsUnder, recordCase, scratchTop, snapshotUpper } from './harness.js';

const scratch = scratchTop('so-absent-');
const mounted: string[] = [];
afterEach(async () => {
  for (const m of mounted.splice(0).reverse()) await run('umount', ['-l', m]).catch(() => undefined);
});

/** A root whose /opt was run once with v1 and edited through the mount, then unmounted. */
async function edited(ship: boolean): Promise<{ root: string; opt: string }> {
  const root = scratch.next();
  const opt = path.join(root, 'opt');
  for (const [p, text] of Object.entries({ 'app/bin/tool': 'tool v1\n', 'app/etc/app.conf': 'port=80\n', 'app/lib/x.so': 'x\n' })) {
    fs.mkdirSync(path.dirname(path.join(opt, p)), { recursive: true });
    fs.writeFileSync(path.join(opt, p), text);
  }
  if (ship) {
    fs.mkdirSync(path.join(root, 'usr/lib/state-overlay'), { recursive: true });
    expect((await cli(root, ['-q', 'index', 'opt', '--ship'])).exitCode).toBe(0);
  }
  expect((await cli(root, ['-q', 'run', 'opt'])).exitCode).toBe(0);
  fs.writeFileSync(path.join(opt, 'app/bin/tool'), 'tool (local build)\n');
  fs.writeFileSync(path.join(opt, 'app/etc/app.conf'), 'port=8080\n');
  fs.rmSync(path.join(opt, 'app/lib/x.so'));
  expect((await cli(root, ['-q', 'unmount', 'opt'])).exitCode).toBe(0);
  return { root, opt };
}

const layout = (root: string) => layoutFor(root, 'opt', '/opt');

/** The overlays on opt and the binds under the root's /run: none when nothing was mounted. */
const notMounted = (root: string, opt: string): string[] => [
  ...readMountinfo().filter((m) => m.mountpoint === opt && m.fstype === 'overlay').map((m) => `overlay on ${m.mountpoint}`),
  ...mountsUnder(path.join(root, 'run')),
];

describe('an absent base', () => {
  it.each([['run'], ['reconcile']] as const)('an empty base (a tmpfs over /opt) is refused by %s: nothing changes, nothing is mounted', async (cmd) => {
    const { root, opt } = await edited(false);
    const before = snapshotUpper(layout(root));
    const state = readState(layout(root));
    await mountTmpfs(opt, 'mode=0755');
    mounted.push(opt);
    const r = await cli(root, [cmd, 'opt']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^state-overlay: base ${opt} is empty, but the recorded generation had \\d+ entries .*: nothing was changed and nothing mounted; check the base, or use --force if it is right$`));
    expect(readState(layout(root))).toEqual(state);
    expect(notMounted(root, opt)).toEqual([]);
    assertNothingLost('privileges and paths', `empty base refused by ${cmd}`, layout(root), before);
  });

  it('--force reconciles against the empty base all the same, with a warning, everything in backups', async () => {
    const { root, opt } = await edited(false);
    const before = snapshotUpper(layout(root));
    await mountTmpfs(opt, 'mode=0755');
    mounted.push(opt);
    const r = await cli(root, ['--json', 'reconcile', 'opt', '--force']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/is empty, but the recorded generation had \d+ entries .*: going on \(--force\)/);
    assertNothingLost('privileges and paths', 'empty base forced', layout(root), before);
  });

  it.each([['tree'], ['a shipped manifest']] as const)('a base far smaller than the recorded generation (%s) is refused: a few stray files where a volume should be', async (kind) => {
    const { root, opt } = await edited(false);
    // The recorded generation: 200 more files in the base, recorded by a run.
    for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(opt, `app/lib/m${i}.so`), `m${i}\n`);
    expect((await cli(root, ['run', 'opt'])).exitCode).toBe(0);
    expect((await cli(root, ['unmount', 'opt'])).exitCode).toBe(0);
    const before = snapshotUpper(layout(root));
    const state = readState(layout(root));
    // What shows at /opt now: three files on a tmpfs over it (and, shipped, a manifest that lists just them).
    await mountTmpfs(opt, 'mode=0755');
    mounted.push(opt);
    fs.mkdirSync(path.join(opt, 'app/bin'), { recursive: true });
    for (const f of ['app/bin/tool', 'app/bin/a', 'app/bin/b']) fs.writeFileSync(path.join(opt, f), 'stray\n');
    if (kind === 'a shipped manifest') {
      fs.mkdirSync(path.join(root, 'usr/lib/state-overlay'), { recursive: true });
      expect((await cli(root, ['index', 'opt', '--ship'])).exitCode).toBe(0);
    }
    const r = await cli(root, ['run', 'opt']);
    expect(r.exitCode, r.stderr).toBe(1);
    const what = kind === 'tree' ? `base ${opt} has` : 'the shipped manifest \\S+ lists';
    expect(r.stderr).toMatch(new RegExp(`^state-overlay: ${what} 5 entries, but the recorded generation had 2\\d\\d \\(an image volume that did not mount whole, or something mounted over it\\?\\): nothing was changed and nothing mounted`));
    expect(readState(layout(root))).toEqual(state);
    expect(notMounted(root, opt)).toEqual([]);
    assertNothingLost('privileges and paths', `base far smaller than recorded (${kind}) refused`, layout(root), before);
    const forced = await cli(root, ['reconcile', 'opt', '--force']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/but the recorded generation had 2\d\d .*: going on \(--force\)/);
    assertNothingLost('privileges and paths', `base far smaller than recorded (${kind}) forced`, layout(root), before);
  });

  it('a shipped manifest of another tree is refused before the mount: the live base must be what it lists', async () => {
    const { root, opt } = await edited(true);
    const before = snapshotUpper(layout(root));
    // Another tree where /opt should be: the shipped manifest (the generation) is unchanged, the base is not.
    await mountTmpfs(opt, 'mode=0755');
    mounted.push(opt);
    fs.mkdirSync(path.join(opt, 'app/bin'), { recursive: true });
    fs.writeFileSync(path.join(opt, 'app/bin/tool'), 'something else entirely\n');
    const r = await cli(root, ['run', 'opt']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^state-overlay: the shipped manifest \S+opt\.manifest does not describe base \S+: \S+ is (missing|a (file|dir)[^)]*) \(the manifest lists a /);
    expect(notMounted(root, opt)).toEqual([]);
    assertNothingLost('privileges and paths', 'shipped manifest of another tree refused', layout(root), before);
    recordCase('privileges and paths', 'absent base: empty, forced, and a manifest of another tree');
  });
});
