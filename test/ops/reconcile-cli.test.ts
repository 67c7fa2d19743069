import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { treeGeneration } from '../../src/observe/generation.js';
import { readState } from '../../src/state/state-file.js';
import { cli } from '../cli/cli.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, writeTree } from './scratch.js';

let root: string;
beforeEach(() => {
  root = scratch('so-reconcile-cli-');
});
afterEach(async () => {
  await removeTree(root);
});

async function setup() {
  const s = scratchOverlay(root);
  fs.mkdirSync(path.join(root, 'etc/state-overlay'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/state-overlay/opt.conf'), '[Paths]\nConfig=/opt/etc/**\n');
  await writeTree(s.ov.base, { 'bin/tool': 'v1\n', 'etc/a.conf': 'a1\n', 'lib/same': 'same\n' });
  await s.record('gen1');
  await writeTree(s.ov.layout.upper, { 'bin/tool': 'mine\n', 'etc/a.conf': 'a mine\n', 'lib/same': 'same\n', 'data/x': 'state\n' });
  fs.writeFileSync(path.join(s.ov.base, 'bin/tool'), 'v2\n');
  fs.writeFileSync(path.join(s.ov.base, 'etc/a.conf'), 'a2\n');
  return s;
}

describe('reconcile, backups, restore and vacuum commands', () => {
  it('reconcile --dry-run prints the plan with rule numbers and changes nothing', async () => {
    await setup();
    const gen = treeGeneration(path.join(root, 'opt'));
    const r = cli(['--root', root, '-q', 'reconcile', 'opt', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      `opt: would reconcile gen1 -> ${gen} (Reconcile=changed)`,
      'rule  3  drop        /opt/bin/tool  (the base changed this path)',
      'rule  1  drop        /opt/lib/same  (identical to the base (redundant copy-up))',
      'rule  3  sidecar     /opt/etc/a.conf.rpmnew <- base etc/a.conf  (modified config file the base changed: new base content written beside it)',
      'rule  8  rmdir       /opt/lib  (empty once reconciled and identical to the base directory)',
      'rule  8  rmdir       /opt/bin  (empty once reconciled and identical to the base directory)',
      'rule  3  keep        /opt/etc/a.conf (+ etc/a.conf.rpmnew)  (modified config file the base changed: new base content written beside it)',
      '2 dropped, 0 moved aside, 1 sidecar, 0 attrs, 2 empty dirs removed, 1 kept, 0 warnings',
      '',
    ].join('\n'));
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(root, 'var/lib/state-overlay/opt/upper/bin/tool'))).toBe(true);
  });

  it('plain keeps are counted, not listed, unless -v: a large upper prints its summary and what changed', async () => {
    const s = scratchOverlay(root);
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`share/f${i}`, `${i}\n`]));
    await writeTree(s.ov.base, { ...many, 'bin/tool': 'v1\n' });
    await s.record('gen1');
    await writeTree(s.ov.layout.upper, { ...Object.fromEntries(Object.keys(many).map((k) => [k, 'mine\n'])), 'bin/tool': 'mine\n' });
    fs.writeFileSync(path.join(s.ov.base, 'bin/tool'), 'v2\n');
    fs.writeFileSync(path.join(s.ov.base, 'share/new'), 'new\n');
    const quiet = cli(['--root', root, '-q', 'reconcile', 'opt', '--dry-run']);
    expect(quiet.code).toBe(0);
    const lines = quiet.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes(' keep '))).toEqual([]);
    expect(lines).toContain('rule  3  drop        /opt/bin/tool  (the base changed this path)');
    expect(lines.at(-1)).toBe('1 dropped, 0 moved aside, 0 sidecars, 0 attrs, 1 empty dir removed, 50 kept (-v lists them), 0 warnings');
    const all = cli(['--root', root, '--log-level', 'warn', '-v', 'reconcile', 'opt', '--dry-run']);
    expect(all.code).toBe(0);
    const listed = all.stdout.trimEnd().split('\n');
    expect(listed.filter((l) => /^rule {2}2 {2}keep {8}\/opt\/share\/f\d+ {2}\(base unchanged here\)$/.test(l))).toHaveLength(50);
    expect(listed.at(-1)).toBe('1 dropped, 0 moved aside, 0 sidecars, 0 attrs, 1 empty dir removed, 50 kept, 0 warnings');
    expect(all.stderr).toBe('');
  });

  it('reconcile --json, backups, restore (with a conflict first) and vacuum', async () => {
    const s = await setup();
    const r = cli(['--root', root, '-q', '--json', 'reconcile', 'opt']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ apiVersion: 'state-overlay/v1', kind: 'ReconcileReport', name: 'opt', from: 'gen1', dropped: 2, sidecars: 1, upToDate: false, dryRun: false });
    expect(out.actions[0]).toEqual({ kind: 'move-to-backups', path: 'bin/tool', pathBase64: Buffer.from('bin/tool').toString('base64'), rule: 3, reason: 'the base changed this path' });
    const set = out.backupSet as string;

    const b = cli(['--root', root, '--json', 'backups', 'opt']);
    expect(JSON.parse(b.stdout).sets.map((x: { set: string; entries: { path: string }[] }) => [x.set, x.entries.map((e) => e.path)])).toEqual([[set, ['bin/tool', 'lib/same']]]);
    expect(cli(['--root', root, 'backups', 'opt']).stdout).toBe([
      `${set}  reconcile gen1 -> ${out.to}  2 entries, 1 written`,
      '  rule  3  shadow      /opt/bin/tool  (the base changed this path)',
      '  rule  1  shadow      /opt/lib/same  (identical to the base (redundant copy-up))',
      '  wrote    sidecar     /opt/etc/a.conf.rpmnew  (beside /opt/etc/a.conf)',
      '',
    ].join('\n'));

    // The host wrote bin/tool again: restoring it would overwrite that, so nothing is restored.
    fs.mkdirSync(path.join(s.ov.layout.upper, 'bin'));
    fs.writeFileSync(path.join(s.ov.layout.upper, 'bin/tool'), 'newer\n');
    const clash = cli(['--root', root, 'restore', 'opt', set]);
    expect(clash.stderr).toContain(`cannot restore bin/tool: the upper holds ${s.ov.layout.upper}/bin/tool again; move it away first (nothing was restored)`);
    expect(clash.code).toBe(2);
    expect(fs.existsSync(path.join(s.ov.layout.upper, 'lib/same'))).toBe(false);
    const one = cli(['--root', root, 'restore', 'opt', set, '/opt/lib/same']);
    expect(one.stdout).toBe(`restored /opt/lib/same\nopt: 1 entry restored from ${set}\n`);
    expect(fs.readFileSync(path.join(s.ov.layout.upper, 'lib/same'), 'utf8')).toBe('same\n');
    const missing = cli(['--root', root, 'restore', 'opt', set, 'lib/same']);
    expect(missing.stderr).toContain(`"lib/same" is not an entry of backup set ${set}`);
    expect(missing.code).toBe(2);
    const noSet = cli(['--root', root, 'restore', 'opt', 'nope']);
    expect(noSet.stderr).toContain(`backup set "nope" not found in ${s.ov.layout.backupsDir} (sets: ${set})`);

    // lib/same is an identical copy-up again: vacuum moves it to a new set.
    const dry = cli(['--root', root, 'vacuum', 'opt', '--dry-run']);
    expect(dry.stdout).toBe('rule  1  drop        /opt/lib/same  (identical to the base (redundant copy-up))\nrule  8  rmdir       /opt/lib  (empty once reconciled and identical to the base directory)\nopt: would drop 1 redundant copy-up, 1 empty dir\n');
    const vac = cli(['--root', root, '-q', '--json', 'vacuum', 'opt']);
    expect(JSON.parse(vac.stdout)).toMatchObject({ dropped: 1, removedDirs: 1, dryRun: false });
    expect(fs.existsSync(path.join(s.ov.layout.upper, 'lib'))).toBe(false);
    expect(readState(s.ov.layout)?.lastReconcile?.backupSet).toBe(set);
    expect(fs.readdirSync(s.ov.layout.backupsDir)).toHaveLength(2);
  });
});

describe('every path that records a generation keeps its manifest', () => {
  const lastRule = (out: string, p: string) => /^rule +(\d+) /.exec(out.split('\n').find((l) => l.includes(` /opt/${p} `)) ?? '')?.[1];

  it('reconcile (offline) records the manifest of the generation it reconciled to: the next update knows its B0', async () => {
    const s = await setup();
    const r = cli(['--root', root, '-q', 'reconcile', 'opt']);
    expect(r.code, r.stderr).toBe(0);
    const state = readState(s.ov.layout)!;
    expect(state.generation).toBe(treeGeneration(s.ov.base));
    expect(state.manifest).not.toBeNull();
    expect(fs.existsSync(path.join(s.ov.layout.manifestsDir, state.manifest!))).toBe(true);
    // The next update changes bin/tool only: the kept edit of etc/a.conf is judged against a known B0 (rule 2), not pruned (rule 10).
    fs.writeFileSync(path.join(s.ov.base, 'bin/tool'), 'v3\n');
    const next = cli(['--root', root, '--log-level', 'warn', '-v', 'reconcile', 'opt', '--dry-run']);
    expect(next.stdout).not.toMatch(/^rule 10 /m);
    expect(lastRule(next.stdout, 'etc/a.conf')).toBe('2');
  });

  it('mount records the manifest a recorded generation lacks (reconcile then mount)', async () => {
    const s = await setup();
    expect(cli(['--root', root, '-q', 'reconcile', 'opt']).code).toBe(0);
    // As a reconcile that could not record it leaves it: the generation recorded, its manifest gone.
    const state = readState(s.ov.layout)!;
    if (state.manifest !== null) fs.rmSync(path.join(s.ov.layout.manifestsDir, state.manifest));
    try {
      const m = cli(['--root', root, '-q', 'mount', 'opt']);
      expect(m.code, m.stderr).toBe(0);
      const after = readState(s.ov.layout)!;
      expect(after.generation).toBe(state.generation);
      expect(fs.existsSync(path.join(s.ov.layout.manifestsDir, after.manifest!))).toBe(true);
    } finally {
      cli(['--root', root, '-q', 'unmount', 'opt']);
    }
  });
});
