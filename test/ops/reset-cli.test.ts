// `state-overlay reset` from the command line on a real mount: the refusal while mounted, --reload around
// an unmount (and a busy mount left as it was, exit 75), the summary line, --json, and restore undoing it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, makeScratch, type Scratch } from '../mount/scratch.js';

const ENV = { INVOCATION_ID: '', JOURNAL_STREAM: '', NOTIFY_SOCKET: '' };

let s: Scratch;
let target: string;
let upper: string;
beforeEach(async () => {
  s = makeScratch();
  target = path.join(s.root, 'opt');
  upper = path.join(s.root, 'var/lib/state-overlay/opt/upper');
  expect((await cli(s.root, ['run', 'opt'], ENV)).exitCode).toBe(0);
  // a shadow and some state, written through the mount
  fs.writeFileSync(path.join(target, 'app/bin/tool'), 'mine\n');
  fs.mkdirSync(path.join(target, 'data'));
  fs.writeFileSync(path.join(target, 'data/db'), 'state\n');
});
afterEach(() => s.cleanup());

const so = (...args: string[]) => cli(s.root, args, ENV);

describe('reset NAME', () => {
  it('refuses while mounted, naming the mountpoint and --reload; nothing moves', async () => {
    const r = await so('reset', 'opt');
    expect([r.exitCode, r.stderr]).toEqual([75, `state-overlay: overlay opt is mounted on ${target}: reset runs offline; use --reload to unmount it, reset and mount it again (only when nothing holds it)`]);
    expect(fs.readFileSync(path.join(target, 'app/bin/tool'), 'utf8')).toBe('mine\n');
  });

  it('lists what would move while mounted with --dry-run, and moves nothing', async () => {
    const r = await so('reset', 'opt', '--dry-run');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(['reset    drop        /opt/app  (reset of the whole upper)', 'reset    drop        /opt/data  (reset of the whole upper)', 'opt: would move 2 entries to a backup set'].join('\n'));
    expect(fs.readdirSync(upper).sort()).toEqual(['app', 'data']);
  });

  it('--reload unmounts, resets and mounts again: the base shows; restore brings the host\'s files back', async () => {
    const r = await so('reset', 'opt', '/opt/app/bin/tool', '--reload');
    expect(r.exitCode, r.stderr).toBe(0);
    const set = /moved to backup set (\S+);/.exec(r.stdout)![1]!;
    expect(r.stdout).toBe(`reset    drop        /opt/app/bin/tool  (reset: /opt/app/bin/tool)\n1 entry moved to backup set ${set}; restore with: state-overlay restore opt ${set}\nopt: mounted again on /opt`);
    expect(s.mounts()).toContain(target);
    expect(fs.readFileSync(path.join(target, 'app/bin/tool'), 'utf8')).toBe('v1\n');
    expect(fs.readFileSync(path.join(target, 'data/db'), 'utf8')).toBe('state\n');
    expect((await so('unmount', 'opt')).exitCode).toBe(0);
    const back = await so('restore', 'opt', set);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(fs.readFileSync(path.join(upper, 'app/bin/tool'), 'utf8')).toBe('mine\n');
  });

  it('--reload on a busy mount exits 75 naming the holder, and changes nothing', async () => {
    const holder = await s.hold(path.join(target, 'data'));
    const r = await so('reset', 'opt', '--reload');
    expect(r.exitCode).toBe(75);
    expect(r.stderr).toContain(`state-overlay: ${target} is busy: held by `);
    expect(r.stderr).toContain(`held by pid ${holder.pid} (sleep 600)`);
    expect(r.stderr).toMatch(/; nothing was reset$/);
    expect(s.mounts()).toContain(target);
    expect(fs.readdirSync(upper).sort()).toEqual(['app', 'data']);
  });

  it('a PATH that matches nothing is a usage error, and a mounted overlay stays mounted', async () => {
    const r = await so('reset', 'opt', 'nosuch', '--reload');
    expect([r.exitCode, r.stderr]).toEqual([2, `state-overlay: reset opt: "nosuch" matches nothing in the upper ${upper} (paths under /opt, or relative to it); nothing was moved`]);
    expect(s.mounts()).toContain(target);
  });

  it('prints a ResetReport with --json', async () => {
    expect((await so('unmount', 'opt')).exitCode).toBe(0);
    const r = await so('--json', 'reset', 'opt', 'data');
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ apiVersion: 'state-overlay/v1', kind: 'ResetReport', name: 'opt', dryRun: false, resumed: false, remounted: false, moved: 1, pruned: [], conflicts: [] });
    expect(doc.actions).toEqual([{ kind: 'move-to-backups', path: 'data', pathBase64: Buffer.from('data').toString('base64'), rule: null, reason: 'reset: data' }]);
    const sets = JSON.parse((await so('--json', 'backups', 'opt')).stdout) as { sets: { set: string; origin: string }[] };
    expect(sets.sets.map((x) => [x.set, x.origin])).toEqual([[doc.set, 'reset']]);
  });
});
