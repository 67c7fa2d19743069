import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestPath } from '../../src/manifest/store.js';
import { layoutFor } from '../../src/paths/layout.js';
import { STATE_SCHEMA, writeState } from '../../src/state/state-file.js';
import { setOverlayXattr } from '../../src/tree/xattr.js';
import { run } from '../../src/exec.js';
import { INVALID_UTF8, NEWLINE, bpath, makeSocket, mknod, scratch } from '../tree/fixtures.js';
import { cli } from '../cli/cli.js';

/** The recorded generation as a reconcile leaves it: its generation id and manifest in state.json. */
function record(root: string, generation: string): void {
  const layout = layoutFor(root, 'opt', '/opt');
  writeState(layout, { schemaVersion: STATE_SCHEMA, generation, manifest: path.basename(manifestPath(layout, generation)), lastReconcile: null });
}

const b64 = (p: string) => Buffer.from(p).toString('base64');
const generationOf = (stdout: string) => /^generation (\S+)$/m.exec(stdout)![1]!;

describe('state-overlay diff', () => {
  let root: string;
  let g0: string;
  let g1: string;
  const base = (p: string) => path.join(root, 'opt', p);
  const upper = (p: string) => path.join(root, 'var/lib/state-overlay/opt/upper', p);
  beforeAll(async () => {
    root = scratch();
    for (const d of ['app/lib', 'app/data', 'app/etc']) fs.mkdirSync(base(d), { recursive: true });
    fs.writeFileSync(base('app/conf'), 'conf v1\n');
    fs.writeFileSync(base('app/bin'), 'bin v1\n');
    fs.writeFileSync(base('app/old'), 'old\n');
    fs.writeFileSync(base('app/lib/x.so'), 'x\n');
    fs.writeFileSync(base('app/data/d1'), 'd1\n');
    fs.writeFileSync(base('app/etc/sock.conf'), 'a\n');
    fs.writeFileSync(base('app/meta'), 'meta\n');
    // the base generation the upper was reconciled against, with its manifest
    const r0 = cli(['--root', root, '--log-level', 'warn', 'index', 'opt']);
    expect(r0.stderr).toBe('');
    g0 = generationOf(r0.stdout);
    record(root, g0);

    for (const d of ['app/lib', 'app/data', 'app/etc', 'app/newdir']) fs.mkdirSync(upper(d), { recursive: true });
    fs.writeFileSync(upper('app/conf'), 'conf edited\n');
    fs.writeFileSync(upper('app/bin'), 'bin edited\n');
    fs.writeFileSync(upper('app/new'), 'state\n');
    fs.writeFileSync(upper('app/newdir/f'), 'f\n');
    await mknod(upper('app/old'), 'c', 0, 0);
    setOverlayXattr(upper('app/lib'), 'opaque', 'y');
    fs.writeFileSync(upper('app/lib/mine.so'), 'mine\n');
    setOverlayXattr(upper('app/data'), 'opaque', 'y');
    setOverlayXattr(upper('app/etc'), 'opaque', 'x');
    fs.writeFileSync(upper('app/etc/sock.conf'), '');
    setOverlayXattr(upper('app/etc/sock.conf'), 'whiteout', '');
    fs.symlinkSync('/etc/shadow', upper('app/shadow'));
    fs.writeFileSync(bpath(upper(''), NEWLINE), 'n');
    fs.writeFileSync(bpath(upper(''), INVALID_UTF8), 'i');
    await run('mkfifo', [upper('fifo')]);
    await makeSocket(upper('sock'));
    await mknod(upper('null'), 'c', 1, 3);
    fs.symlinkSync('loop2', upper('loop1'));
    fs.symlinkSync('loop1', upper('loop2'));
    fs.writeFileSync(upper('app/meta'), '');
    setOverlayXattr(upper('app/meta'), 'metacopy', '');

    // the new base: conf updated, old removed, lib gained a file, shadow now shipped
    fs.writeFileSync(base('app/conf'), 'conf v2\n');
    fs.rmSync(base('app/old'));
    fs.writeFileSync(base('app/lib/y.so'), 'y\n');
    fs.writeFileSync(base('app/shadow'), 'shipped\n');
    const r1 = cli(['--root', root, '--log-level', 'warn', 'index', 'opt']);
    expect(r1.stderr).toBe('');
    g1 = generationOf(r1.stdout);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lists every upper entry with its kind and the base change under it', () => {
    const r = cli(['--root', root, 'diff', 'opt']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `# opt: recorded ${g0}, current ${g1}`,
        'merged-dir unchanged app',
        'shadow     unchanged app/bin',
        'shadow     changed   app/conf',
        'opaque-dir unchanged app/data',
        'merged-dir unchanged app/etc',
        'whiteout   unchanged app/etc/sock.conf',
        'opaque-dir changed   app/lib',
        'state      -         app/lib/mine.so',
        'foreign    unchanged app/meta',
        'state      absent    app/new',
        'state      absent    app/newdir',
        'state      -         app/newdir/f',
        'whiteout   removed   app/old',
        'shadow     added     app/shadow',
        'state      absent    b\\xff\\xfe\\x80.c',
        'state      absent    fifo',
        'state      absent    loop1',
        'state      absent    loop2',
        'state      absent    new\\x0aline',
        'state      absent    null',
        'state      absent    sock',
        '',
      ].join('\n'),
    );
  });

  it('renders the same as JSON, every name with its raw bytes', () => {
    const r = cli(['--root', root, '--json', 'diff', 'opt']);
    const j = JSON.parse(r.stdout);
    expect([j.apiVersion, j.kind]).toEqual(['state-overlay/v1', 'Diff']);
    expect(j.generation).toEqual({ recorded: g0, current: g1, source: 'tree', manifest: path.join(root, 'var/lib/state-overlay/opt/manifests', `${g0}.manifest`) });
    expect(j.entries).toHaveLength(21);
    expect(j.entries[5]).toEqual({ path: 'app/etc/sock.conf', pathBase64: b64('app/etc/sock.conf'), kind: 'whiteout', type: 'file', base: 'unchanged', class: 'default', whiteout: 'xattr' });
    expect(j.entries[7]).toEqual({ path: 'app/lib/mine.so', pathBase64: b64('app/lib/mine.so'), kind: 'state', type: 'file', class: 'default' });
    expect(j.entries[8]).toEqual({ path: 'app/meta', pathBase64: b64('app/meta'), kind: 'foreign', type: 'file', base: 'unchanged', class: 'default', foreign: 'metacopy' });
    expect(j.entries[14]).toEqual({ path: 'b\\xff\\xfe\\x80.c', pathBase64: INVALID_UTF8.toString('base64'), kind: 'state', type: 'file', base: 'absent', class: 'default' });
    expect(Buffer.from(j.entries[18].pathBase64, 'base64')).toEqual(NEWLINE);
    expect(j.entries.filter((e: { type: string }) => ['fifo', 'socket', 'chr', 'symlink'].includes(e.type)).map((e: { path: string; type: string }) => `${e.path}:${e.type}`)).toEqual([
      'app/old:chr',
      'app/shadow:symlink',
      'fifo:fifo',
      'loop1:symlink',
      'loop2:symlink',
      'null:chr',
      'sock:socket',
    ]);
    expect(j.unreadable).toEqual([]);
  });

  it('says unchanged everywhere when the base is the recorded generation', () => {
    record(root, g1);
    try {
      const lines = cli(['--root', root, 'diff', 'opt']).stdout.split('\n');
      expect(lines[0]).toBe(`# opt: recorded ${g1}, current ${g1}`);
      expect(lines.filter((l) => / (changed|added|removed|absent) /.test(l))).toEqual([]);
      expect(lines[2]).toBe('shadow     unchanged app/bin');
    } finally {
      record(root, g0);
    }
  });

  it('marks base changes unknown without a manifest of the recorded generation', () => {
    record(root, 'tree:0000');
    try {
      const lines = cli(['--root', root, 'diff', 'opt']).stdout.split('\n');
      expect(lines.slice(0, 3)).toEqual([`# opt: recorded tree:0000, current ${g1}, no manifest of the recorded generation`, 'merged-dir ?         app', 'shadow     ?         app/bin']);
    } finally {
      record(root, g0);
    }
  });

  it('fails naming a missing base, prints only the header without an upper, rejects a bad NAME', () => {
    const r = cli(['--root', root, 'diff', 'usr-local']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`state-overlay: mountpoint ${root}/usr/local does not exist\n  caused by: ENOENT: no such file or directory, lstat '${root}/usr/local'\n`);
    fs.mkdirSync(path.join(root, 'srv'));
    const s = cli(['--root', root, 'diff', 'srv']);
    expect(s.stdout).toMatch(/^# srv: recorded none, current tree:[0-9a-f]{64}, no manifest of the recorded generation\n$/);
    expect(cli(['--root', root, 'diff', '../x']).code).toBe(2);
  });
});
