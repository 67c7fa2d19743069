// Privileges and paths: a state dir with the wrong owner or mode, symlinks planted anywhere in the state
// path, `--root /` with a scratch NAME (read-only commands must not write to the host), and Base= inside
// the overlay's own upper or holding it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Layout } from '../../src/paths/layout.js';
import { snapshot } from '../ops/scratch.js';
import { buildCliCase, smallCase } from './cases.js';
import { assertNothingLost, cli, mountsUnder, recordCase, scratchTop } from './harness.js';

const scratch = scratchTop('so-priv-', 'mode=0755,size=256m');
const CASE = smallCase('privileges', 5);
const fresh = (conf = '') => buildCliCase(scratch.next(), CASE, conf);

describe('state dir owner and mode', () => {
  it.each([
    ['the state dir', (l: Layout) => l.stateDir],
    ['the state root', (l: Layout) => path.dirname(l.stateDir)],
  ])('%s owned by another user: refused, nothing changed', async (_what, dirOf) => {
    const { s, original, root } = await fresh();
    const dir = dirOf(s.ov.layout);
    fs.chownSync(dir, 1234, 1234);
    for (const args of [['reconcile', 'opt'], ['run', 'opt'], ['mount', 'opt']]) {
      const r = await cli(root, args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(`state-overlay: ${dir} is owned by uid 1234, expected 0`);
    }
    expect(mountsUnder(root)).toEqual([]);
    expect(snapshot(s.ov.layout.upper)).toEqual(original);
    assertNothingLost('privileges and paths', `${_what} owned by uid 1234`, s.ov.layout, original);
  });

  it('a state dir left world-writable is tightened to 0700 and used', async () => {
    const { s, original, root } = await fresh();
    fs.chmodSync(s.ov.layout.stateDir, 0o777);
    const r = await cli(root, ['reconcile', 'opt']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(fs.statSync(s.ov.layout.stateDir).mode & 0o777).toBe(0o700);
    assertNothingLost('privileges and paths', 'state dir mode 0777', s.ov.layout, original);
  });
});

/** Paths in the state tree a symlink is planted at, pointing to a look-alike copy outside. */
const PLANTS: Array<[string, (l: Layout) => string]> = [
  ['the state root', (l) => path.dirname(l.stateDir)],
  ['the state dir', (l) => l.stateDir],
  ['the upper', (l) => l.upper],
  ['the backups dir', (l) => l.backupsDir],
  ['the manifests dir', (l) => l.manifestsDir],
  ['state.json', (l) => l.stateFile],
  ['the lock file', (l) => l.lockFile],
];

describe('a symlink planted in the state path', () => {
  it.each(PLANTS)('%s: nothing outside changes; refused or replaced, never written through', async (what, at) => {
    const { s, original, root } = await fresh();
    const { layout } = s.ov;
    fs.mkdirSync(layout.backupsDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(layout.lockFile, '');
    const planted = at(layout);
    const outside = path.join(root, 'outside');
    fs.cpSync(planted, outside, { recursive: true });
    fs.renameSync(planted, `${planted}.real`);
    fs.symlinkSync(outside, planted);
    const before = snapshot(path.dirname(outside)).size === 0 ? new Map() : snapshotOf(outside);
    for (const args of [['reconcile', 'opt'], ['run', 'opt']]) {
      const r = await cli(root, args);
      if (r.exitCode === 0) {
        // Replaced by a file of our own (state.json is renamed over): the outside copy is untouched.
        expect(fs.lstatSync(planted).isSymbolicLink(), `${what}: ${args.join(' ')} succeeded through a symlink`).toBe(false);
      } else {
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^state-overlay: (${escape(planted)} is a symlink|.*${escape(planted)}: ELOOP)`));
      }
      expect(snapshotOf(outside)).toEqual(before);
      await cli(root, ['unmount', 'opt']);
    }
    if (fs.lstatSync(planted).isSymbolicLink()) {
      fs.unlinkSync(planted);
      fs.renameSync(`${planted}.real`, planted);
    }
    assertNothingLost('privileges and paths', `symlink planted at ${what}`, layout, original);
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A snapshot of a file or a tree. */
function snapshotOf(p: string): Map<string, string> {
  const st = fs.lstatSync(p);
  if (st.isDirectory()) return snapshot(p);
  return new Map([['', `${st.mode} ${fs.readFileSync(p, 'latin1')}`]]);
}

describe('--root /', () => {
  const existed = ['/var/lib/state-overlay', '/run/state-overlay'].filter((p) => fs.existsSync(p));
  let k = 0;
  const created: string[] = [];
  afterAll(() => {
    // Undo what a failing case may have created on the host: only its own scratch NAME's dirs.
    for (const p of created) fs.rmSync(p, { recursive: true, force: true });
    for (const p of ['/var/lib/state-overlay', '/run/state-overlay']) if (!existed.includes(p) && fs.existsSync(p) && fs.readdirSync(p).length === 0) fs.rmdirSync(p);
  });

  it.each([
    [['status']],
    [['--json', 'status']],
    [['diff']],
    [['backups']],
    [['reconcile', '--dry-run']],
    [['config']],
  ])('%j with a scratch NAME writes nothing on the host', async (args) => {
    const name = `opt-so\\x2dhardening\\x2d${process.pid}\\x2d${++k}`;
    const hostPaths = [`/var/lib/state-overlay/${name}`, `/run/state-overlay/${name}`];
    created.push(...hostPaths);
    const r = await cli('/', [...args, name]);
    expect(r.exitCode, r.stderr).not.toBe(-1);
    for (const p of hostPaths) expect(fs.existsSync(p), `${args.join(' ')} created ${p}`).toBe(false);
    for (const p of ['/var/lib/state-overlay', '/run/state-overlay']) {
      if (!existed.includes(p)) expect(fs.existsSync(p), `${args.join(' ')} created ${p}`).toBe(false);
    }
    recordCase('privileges and paths', `--root / ${args.join(' ')}`);
  });
});

describe('Base= overlapping the overlay itself', () => {
  it.each([
    // Named directly, a Base= under the state dir is a config error (test/config); through a symlink only its real path tells.
    ['inside the upper', '/srv/upper-bin', (l: Layout) => `base ${path.join(l.upper, 'bin')} lies inside the upper directory ${l.upper}`],
    ['holding the state dir', '/var', (l: Layout) => `base ${path.join(l.root, 'var')} contains the upper directory ${l.upper}: the layers would overlap`],
  ])('Base= %s: refused before any change', async (what, base, message) => {
    const { s, original, root } = await fresh(`[Overlay]\nBase=${base}\n`);
    if (base === '/srv/upper-bin') {
      fs.mkdirSync(path.join(root, 'srv'), { recursive: true });
      fs.symlinkSync(path.join(s.ov.layout.upper, 'bin'), path.join(root, base));
    }
    for (const args of [['reconcile', 'opt'], ['run', 'opt'], ['mount', 'opt']]) {
      const r = await cli(root, args);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`state-overlay: ${message(s.ov.layout)}`);
      expect(snapshot(s.ov.layout.upper)).toEqual(original);
    }
    expect(mountsUnder(root)).toEqual([]);
    assertNothingLost('privileges and paths', `Base= ${what}`, s.ov.layout, original);
  });
});

describe('files the tool writes tell an unprivileged user nothing the tree does not', () => {
  it('the shipped manifest, its kept copy and the state files are readable by root only', async () => {
    const { root } = await fresh();
    fs.mkdirSync(path.join(root, 'usr/lib/state-overlay'), { recursive: true });
    expect((await cli(root, ['-q', 'index', 'opt', '--ship'])).exitCode).toBe(0);
    const r = await cli(root, ['-q', 'run', 'opt']);
    try {
      expect(r.exitCode, r.stderr).toBe(0);
      const stateDir = path.join(root, 'var/lib/state-overlay/opt');
      const files = [path.join(root, 'usr/lib/state-overlay/opt.manifest'), path.join(stateDir, 'state.json'), ...fs.readdirSync(path.join(stateDir, 'manifests')).map((f) => path.join(stateDir, 'manifests', f))];
      expect(files.length).toBeGreaterThanOrEqual(3);
      // Names inside 0700 directories and digests of 0600 files: no group or other bits on any of them.
      expect(files.map((f) => [path.relative(root, f), (fs.statSync(f).mode & 0o077).toString(8)])).toEqual(files.map((f) => [path.relative(root, f), '0']));
    } finally {
      await cli(root, ['-q', 'unmount', 'opt']);
    }
    recordCase('privileges and paths', 'manifests and state files readable by root only');
  });
});
