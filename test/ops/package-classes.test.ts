// Package classes end to end through the CLI: recorded in the manifests `index` writes, shown by `diff`,
// and an old manifest without them noted by `status` and the reconcile.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/manifest/build.js';
import { readClasses } from '../../src/manifest/store.js';
import { cli } from '../cli/cli.js';
import { scratch } from '../tree/fixtures.js';

describe('package classes through the CLI', () => {
  let root: string;
  const at = (p: string) => path.join(root, p);
  beforeAll(() => {
    root = scratch();
    fs.mkdirSync(at('opt/app/etc'), { recursive: true });
    fs.writeFileSync(at('opt/app/etc/app.conf'), 'v1\n');
    fs.writeFileSync(at('opt/app/etc/other.conf'), 'v1\n');
    fs.mkdirSync(at('var/lib/dpkg/info'), { recursive: true });
    fs.writeFileSync(at('var/lib/dpkg/info/app.conffiles'), '/opt/app/etc/app.conf\n');
    fs.writeFileSync(at('var/lib/dpkg/status'), '');
    fs.mkdirSync(at('etc/state-overlay'), { recursive: true });
    fs.writeFileSync(at('etc/state-overlay/opt.conf'), '[Paths]\nConfigFrom=dpkg\nConfig=/opt/app/etc/other.conf\n');
    fs.mkdirSync(at('usr/lib/state-overlay'), { recursive: true });
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('index --ship records the classes of the image\'s database, and diff names the class of each entry and where it came from', () => {
    expect(cli(['--root', root, '-q', 'index', 'opt', '--ship']).code).toBe(0);
    const c = readClasses(at('usr/lib/state-overlay/opt.manifest'));
    expect([c.dbs, [...c.byPath.keys()]]).toEqual([['dpkg'], ['app/etc/app.conf']]);
    expect(cli(['--root', root, 'config', 'opt']).stdout.split('\n')).toContain(`# classes from the shipped manifest ${at('usr/lib/state-overlay/opt.manifest')} (dpkg): 1 dpkg conffile; globs add to them`);
    expect(cli(['--root', root, '-q', 'run', 'opt']).code).toBe(0);
    try {
      fs.writeFileSync(at('opt/app/etc/app.conf'), 'edit\n');
      fs.writeFileSync(at('opt/app/etc/other.conf'), 'edit\n');
      fs.writeFileSync(at('opt/app/state'), 'state\n');
    } finally {
      expect(cli(['--root', root, '-q', 'unmount', 'opt']).code).toBe(0);
    }
    const lines = cli(['--root', root, 'diff', 'opt']).stdout.split('\n').slice(1);
    expect(lines).toEqual([
      'merged-dir unchanged app',
      'merged-dir unchanged app/etc',
      'shadow     unchanged app/etc/app.conf  [config: dpkg conffile of app]',
      'shadow     unchanged app/etc/other.conf  [config: Config=/opt/app/etc/other.conf]',
      'state      unchanged app/state',
      '',
    ]);
    const j = JSON.parse(cli(['--root', root, '--json', 'diff', 'opt']).stdout);
    expect(j.entries[2]).toMatchObject({ path: 'app/etc/app.conf', class: 'config', classFrom: 'dpkg conffile of app' });
    expect(j.entries[4]).toMatchObject({ path: 'app/state', class: 'default' });
    expect(j.entries[4].classFrom).toBeUndefined();
  });

  it('a recorded manifest without classes is noted by status, and the reconcile warns', async () => {
    const state = JSON.parse(fs.readFileSync(at('var/lib/state-overlay/opt/state.json'), 'utf8'));
    const kept = at(`var/lib/state-overlay/opt/manifests/${state.manifest}`);
    expect(JSON.parse(cli(['--root', root, '--json', 'status', 'opt']).stdout).overlays[0].pending).toEqual([]);
    // What a manifest written before classes existed looks like.
    await buildManifest(at('opt'), kept);
    const s = cli(['--root', root, 'status', 'opt']).stdout;
    expect(s).toContain('the recorded manifest has no package classes: config files of the recorded base from globs only (re-ship the manifest with index --ship)');
    expect(JSON.parse(cli(['--root', root, '--json', 'status', 'opt']).stdout).overlays[0].pending).toEqual(['classes']);
    fs.writeFileSync(at('opt/app/etc/app.conf'), 'v2\n');
    expect(cli(['--root', root, '-q', 'index', 'opt', '--ship']).code).toBe(0);
    const r = cli(['--root', root, '--log-level', 'warn', 'reconcile', 'opt']);
    expect(r.stderr).toContain('ConfigFrom=dpkg: the recorded manifest predates package classes');
    // The current base's classes still apply: the edited conffile is kept with a sidecar.
    expect(r.stdout).toContain('sidecar     /opt/app/etc/app.conf.rpmnew <- base app/etc/app.conf');
  });
});
