import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/manifest/build.js';
import { run } from '../../src/exec.js';
import { manifestDigest, readManifest } from '../../src/manifest/store.js';
import { buildHostile, removeTree, scratch } from '../tree/fixtures.js';
import { BIN, cli } from '../cli/cli.js';

describe('state-overlay index', () => {
  let root: string;
  const opt = () => path.join(root, 'opt');
  const shipped = () => path.join(root, 'usr/lib/state-overlay/opt.manifest');
  const manifests = () => path.join(root, 'var/lib/state-overlay/opt/manifests');
  beforeAll(async () => {
    root = scratch();
    fs.mkdirSync(opt());
    await buildHostile(opt());
  });
  afterEach(() => {
    for (const d of ['usr', 'var', 'ref.manifest']) fs.rmSync(path.join(root, d), { recursive: true, force: true });
  });
  afterAll(async () => {
    await removeTree(root);
  });

  it('--ship writes the image manifest, equal to a direct build, and reports it', async () => {
    const r = cli(['--root', root, '--json', '--log-level', 'warn', 'index', '--ship', 'opt']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const ref = path.join(root, 'ref.manifest');
    const direct = await buildManifest(opt(), ref);
    expect(j).toEqual({
      apiVersion: 'state-overlay/v1',
      kind: 'IndexReport',
      name: 'opt',
      base: opt(),
      manifest: shipped(),
      generation: `manifest:${manifestDigest(shipped())}`,
      source: 'manifest',
      ms: j.ms,
      entries: direct.entries,
      hashedBytes: direct.hashedBytes,
      reusedDigests: 0,
      bytes: direct.bytes,
    });
    expect([...readManifest(shipped())]).toEqual([...readManifest(ref)]);
    expect(fs.readdirSync(path.dirname(shipped()))).toEqual(['opt.manifest']);
  });

  it('with a shipped manifest, keeps a copy of it for its generation and hashes nothing', () => {
    cli(['--root', root, '--log-level', 'warn', 'index', '--ship', 'opt']);
    const gen = `manifest:${manifestDigest(shipped())}`;
    const r = cli(['--root', root, '--log-level', 'warn', 'index', 'opt']);
    const kept = path.join(manifests(), `${gen}.manifest`);
    expect(r.stdout).toMatch(new RegExp(`^${kept}: \\d+ entries, 0 bytes hashed, 0 digests reused \\(\\d+ ms\\)\\ngeneration ${gen}\\n$`));
    expect(fs.readFileSync(kept).equals(fs.readFileSync(shipped()))).toBe(true);
    expect(fs.statSync(path.dirname(manifests())).mode & 0o777).toBe(0o700);
  });

  it('refreshes the tree generation manifest reusing the digests of unchanged files and symlinks', () => {
    const first = JSON.parse(cli(['--root', root, '--json', '--log-level', 'warn', 'index', 'opt']).stdout);
    expect(first.source).toBe('tree');
    expect(first.manifest).toBe(path.join(manifests(), `${first.generation}.manifest`));
    const kinds = [...readManifest(first.manifest)].map((e) => e.type);
    expect(kinds.filter((t) => t === 'symlink').length).toBeGreaterThan(0);
    const again = JSON.parse(cli(['--root', root, '--json', '--log-level', 'warn', 'index', 'opt']).stdout);
    expect(again).toMatchObject({ generation: first.generation, hashedBytes: 0, reusedDigests: kinds.filter((t) => t === 'file' || t === 'symlink').length, entries: first.entries });
  });

  it('indexes entries with times before 1970 (negative seconds) and reuses their digests when indexing again', () => {
    const old = [new Date('1960-01-01T00:00:00.500Z'), new Date('1969-12-31T23:59:59.250Z')] as const;
    const made = ['before-1970', 'link-1960', 'dir-1960'].map((n) => path.join(opt(), n));
    try {
      fs.writeFileSync(made[0]!, 'b');
      fs.utimesSync(made[0]!, ...old);
      fs.symlinkSync('before-1970', made[1]!);
      fs.lutimesSync(made[1]!, ...old);
      fs.mkdirSync(made[2]!);
      fs.utimesSync(made[2]!, ...old);
      const first = cli(['--root', root, '--json', '--log-level', 'warn', 'index', 'opt']);
      expect(first.stderr).toBe('');
      const j = JSON.parse(first.stdout);
      const got = [...readManifest(j.manifest)].filter((e) => e.path.endsWith('-1960') || e.path.endsWith('-1970'));
      expect(got.map((e) => e.path).sort()).toEqual(['before-1970', 'dir-1960', 'link-1960']);
      const again = JSON.parse(cli(['--root', root, '--json', '--log-level', 'warn', 'index', 'opt']).stdout);
      expect(again).toMatchObject({ generation: j.generation, hashedBytes: 0 });
    } finally {
      for (const p of made) fs.rmSync(p, { recursive: true, force: true });
    }
  });

  it('logs start and done events, and shows no progress bar off a terminal', () => {
    const r = cli(['--root', root, 'index', 'opt']);
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['index.start', 'index.done']);
    expect(events[0].root).toBe(opt());
    expect(r.stderr).not.toContain('indexing [');
  });

  it('fails clearly on a missing base, leaving nothing behind', () => {
    const r = cli(['--root', root, 'index', '--ship', 'usr-local']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`state-overlay: mountpoint ${root}/usr/local does not exist\n`);
    expect(fs.existsSync(path.join(root, 'usr/lib/state-overlay')) ? fs.readdirSync(path.join(root, 'usr/lib/state-overlay')) : []).toEqual([]);
  });
});

describe('index progress on a terminal', () => {
  let root: string;
  beforeAll(() => {
    root = scratch();
    fs.mkdirSync(path.join(root, 'opt/d'), { recursive: true });
    for (let i = 0; i < 2500; i++) fs.writeFileSync(path.join(root, `opt/d/f${i}`), `${i}\n`);
  });
  afterAll(async () => {
    await removeTree(root);
  });
  /** What `index` draws on stderr under a pseudo-terminal (script(1)), one screen update a line. */
  const onTerminal = async (...args: string[]) => {
    const command = [process.execPath, BIN, '--root', root, 'index', 'opt', ...args].map((a) => `'${a}'`).join(' ');
    const r = await run('script', ['-qec', command, '/dev/null'], { env: { ...process.env, INVOCATION_ID: '', JOURNAL_STREAM: '' } });
    return r.stdout.split(/\r|\n|\x1b\[1G/).filter((l) => l.startsWith('indexing'));
  };

  it('with no previous manifest to give a total, shows the count and its rate, not an always-full bar', async () => {
    const lines = await onTerminal();
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^indexing \d+ entries, \d+ entries\/s/);
  });

  it('with a previous manifest, a bar whose total is its count', async () => {
    await onTerminal('--ship');
    const lines = await onTerminal('--ship');
    const entries = JSON.parse(cli(['--root', root, '--json', '-q', 'index', 'opt', '--ship']).stdout).entries as number;
    expect(entries).toBeGreaterThan(2500);
    expect(lines[0]).toMatch(new RegExp(`^indexing \\[[^\\]]+\\] \\d+/${entries} entries`));
  });
});

describe('state-overlay index and diff while mounted', () => {
  let root: string;
  beforeAll(() => {
    root = scratch();
    fs.mkdirSync(path.join(root, 'opt/app'), { recursive: true });
    fs.writeFileSync(path.join(root, 'opt/app/conf'), 'v1\n');
  });
  afterAll(async () => {
    cli(['--root', root, '--log-level', 'warn', 'unmount', 'opt']);
    // Whatever the command did, nothing of this test may stay mounted, and nothing mounted gets removed.
    const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(root + '/'));
    for (const m of mounted().reverse()) await run('umount', [m]);
    expect(mounted()).toEqual([]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('read the base through the private bind, not the merged view', () => {
    const m = cli(['--root', root, '--log-level', 'warn', 'mount', 'opt']);
    expect(m.stderr).toBe('');
    fs.writeFileSync(path.join(root, 'opt/app/conf'), 'edited\n');
    fs.writeFileSync(path.join(root, 'opt/app/new'), 'state\n');
    const r = JSON.parse(cli(['--root', root, '--json', '--log-level', 'warn', 'index', 'opt']).stdout);
    expect(r).toMatchObject({ base: path.join(root, 'run/state-overlay/opt/base'), entries: 2, hashedBytes: 3 });
    expect([...readManifest(r.manifest)].map((e) => e.path)).toEqual(['app', 'app/conf']);
    const d = cli(['--root', root, 'diff', 'opt']).stdout.split('\n').slice(1);
    expect(d).toEqual(['merged-dir ?         app', 'shadow     ?         app/conf', 'state      ?         app/new', '']);
  });
});

describe('index --ship of a base that holds the ship directory (an overlay of /usr)', () => {
  let root: string;
  beforeAll(() => {
    root = scratch('so-index-usr-');
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    fs.mkdirSync(path.join(root, 'opt'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/bin/tool'), 'tool\n');
    fs.writeFileSync(path.join(root, 'opt/app'), 'app\n');
  });
  afterAll(async () => {
    cli(['--root', root, '-q', 'unmount', 'usr', '--lazy']);
    await removeTree(root);
  });

  it('lists none of the shipped manifests, their temps or pristine stores, so the base it ships into still matches it', () => {
    const ok = (...args: string[]) => expect(cli(['--root', root, '-q', ...args]).code).toBe(0);
    ok('index', '--ship', 'usr');
    // Another overlay shipped after it writes into the same directory: /usr's manifest stays true.
    ok('index', '--ship', 'opt');
    fs.mkdirSync(path.join(root, 'usr/lib/state-overlay/opt.pristine'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/lib/state-overlay/usr.manifest.tmp-123'), 'a cut writer\n');
    // A drop-in beside them is the image's own content, and listed.
    fs.writeFileSync(path.join(root, 'usr/lib/state-overlay/usr.conf'), '[Paths]\n');
    ok('index', '--ship', 'usr');
    const paths = [...readManifest(path.join(root, 'usr/lib/state-overlay/usr.manifest'))].map((e) => e.path as string);
    expect(paths.filter((p) => p.startsWith('lib/state-overlay/'))).toEqual(['lib/state-overlay/usr.conf']);
    ok('run', 'usr');
    expect(fs.readFileSync(path.join(root, 'usr/bin/tool'), 'utf8')).toBe('tool\n');
  });
});
