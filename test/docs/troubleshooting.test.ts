// docs/troubleshooting.md quotes real messages: each error provoked here must match a message the page
// lists under its exit code (CAPITALS and … in the page stand for the variable parts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAttributeSync } from 'fs-xattr';
import { run } from '../../src/exec.js';
import { buildCliCase, tree } from '../hardening/cases.js';
import { cli } from '../cli/cli.js';
import { DOCS, read, section } from './markdown.js';
import { parseIndex } from '../../src/backups/index-file.js';
import { encodeEntry, parseManifest } from '../../src/manifest/format.js';
import { encodeManifest } from '../../src/manifest/encode.js';
import { v1Header } from '../manifest/v1.js';
import { parseState } from '../../src/state/state-file.js';
import { sha256 } from '../../src/tree/digest.js';
import { StaleAction, removeEmptyDir, renameWithin, setAttrs } from '../../src/txn/apply.js';
import { layoutFor } from '../../src/paths/layout.js';
import { parseJournal, progressFile } from '../../src/txn/journal.js';
import { readProgress } from '../../src/txn/progress.js';
import { writeSidecar } from '../../src/txn/sidecar.js';
import { rel } from '../model/rel.js';
import { writeTree } from '../ops/scratch.js';

const page = read(path.join(DOCS, 'troubleshooting.md'));

/** The quoted messages of the page's tables in the section for an exit code, as anchored patterns. */
function templates(code: number): RegExp[] {
  return templatesUnder(page.split('\n').find((l) => l.startsWith('## ') && l.includes(`(exit code ${code})`)));
}

/** The quoted messages of the tables under a heading, as anchored patterns. */
function templatesUnder(heading: string | undefined): RegExp[] {
  if (heading === undefined) return [];
  const rows = section(page, heading)!.split('\n').filter((l) => l.startsWith('| `'));
  const quoted = rows.flatMap((r) => [...r.split(' | ')[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  return quoted.map((q) => {
    const escaped = q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`^${escaped.replace(/…/g, '.*').replace(/\b[A-Z][A-Z0-9_]*\b/g, '.+?')}$`);
  });
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-docs-errors-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A scratch root with /opt and one opt.conf holding `conf`. */
function rootWith(conf: string | undefined, opt = true): string {
  const r = fs.mkdtempSync(path.join(root, 'r-'));
  if (opt) fs.mkdirSync(path.join(r, 'opt'));
  if (conf !== undefined) {
    fs.mkdirSync(path.join(r, 'etc/state-overlay'), { recursive: true });
    fs.writeFileSync(path.join(r, 'etc/state-overlay/opt.conf'), conf);
  }
  return r;
}

const usage: Array<[string, (r: string) => string[]]> = [
  ['a NAME with a slash', (r) => ['--root', r, 'config', 'opt/x']],
  ['a NAME not in canonical form', (r) => ['--root', r, 'config', 'o\\x70t']],
  ['the root filesystem', (r) => ['--root', r, 'config', '-']],
  ['/proc', (r) => ['--root', r, 'config', 'proc']],
  ['/var', (r) => ['--root', r, 'config', 'var']],
  ['the state directory', (r) => ['--root', r, 'config', 'var-lib-state\\x2doverlay-x']],
  ['a missing --root', () => ['--root', '/nonexistent/so-root', 'status']],
  ['a bad --log-level', (r) => ['--root', r, '--log-level', 'loud', 'status']],
  ['a missing backup set', (r) => ['--root', r, '-q', 'restore', 'opt', 'nosuchset']],
];

const config: Array<[string, string, string[]]> = [
  ['a bad value', '[Overlay]\nReconcile=sometimes\n', ['config', 'opt']],
  ['an unknown key', '[Overlay]\nFoo=1\n', ['config', 'opt']],
  ['an unknown section', '[Bad]\nKeep=1\n', ['config', 'opt']],
  ['an assignment outside a section', 'Keep=1\n', ['config', 'opt']],
  ['a line without =', '[Paths]\nConfig\n', ['config', 'opt']],
  ['a malformed header', '[Paths\n', ['config', 'opt']],
  ['an invalid key name', '[Paths]\n1x=2\n', ['config', 'opt']],
  ['a Path= that cannot be overlaid', '[Overlay]\nPath=/proc/x\n', ['config', 'opt']],
  ['a relative Base=', '[Overlay]\nBase=usr/lib/opt\n', ['config', 'opt']],
  ['a Base= with ..', '[Overlay]\nBase=/usr/../opt\n', ['config', 'opt']],
  ['a relative glob', '[Paths]\nKeep=opt/db\n', ['config', 'opt']],
  ['Backups Keep=0', '[Backups]\nKeep=0\n', ['config', 'opt']],
  ['a relative generation command', '[Overlay]\nGeneration=command:foo\n', ['config', 'opt']],
  ['Generation=manifest without a shipped manifest', '[Overlay]\nGeneration=manifest\n', ['-q', 'index', 'opt']],
  ['Generation=ostree off ostree', '[Overlay]\nGeneration=ostree\n', ['-q', 'index', 'opt']],
];

/** The first error line without the program prefix and, for configuration errors, without `FILE:LINE: `. */
function message(stderr: string, stripFileLine = false): string {
  const head = stderr.split('\n')[0]!.replace(/^state-overlay: /, '');
  return stripFileLine ? head.replace(/^\/\S*?:\d+: /, '') : head;
}

describe('docs/troubleshooting.md', () => {
  it.each([2, 75, 6, 1])('quotes messages under exit code %i', (code) => expect(templates(code).length).toBeGreaterThan(5));

  it.each(usage)('usage (2): %s', (_what, argv) => {
    const r = cli(argv(rootWith(undefined)));
    expect(r.code, r.stderr).toBe(2);
    const msg = message(r.stderr);
    expect(templates(2).some((t) => t.test(msg)), msg).toBe(true);
  });

  it.each(['mount', 'run', 'diff', 'reconcile', 'index'])('usage (2): a missing mountpoint (%s)', (command) => {
    const r = cli(['--root', rootWith(undefined, false), '-q', command, 'opt']);
    expect(r.code, r.stderr).toBe(2);
    const msg = message(r.stderr);
    expect(templates(2).some((t) => t.test(msg)), msg).toBe(true);
  });

  it.each(config)('configuration (6): %s', (_what, conf, argv) => {
    const r = cli(['--root', rootWith(conf), ...argv]);
    expect(r.code, r.stderr).toBe(6);
    const msg = message(r.stderr, true);
    expect(templates(6).some((t) => t.test(msg)), msg).toBe(true);
  });

  it('failure (1): backups on a filesystem that cannot hold the xattrs of an entry to move', async () => {
    const r = fs.mkdtempSync(path.join(root, 'r-'));
    const { s } = await buildCliCase(r, {
      name: 'ramfs backups',
      v1: tree({ 'bin/f': 'v1\n' }),
      upper: (u) => {
        fs.mkdirSync(path.join(u, 'bin'));
        fs.writeFileSync(path.join(u, 'bin/f'), 'edited\n');
        setAttributeSync(path.join(u, 'bin/f'), 'user.note', 'mine');
      },
      v2: tree({ 'bin/f': 'v2\n' }),
    });
    fs.mkdirSync(s.ov.layout.backupsDir, { recursive: true, mode: 0o700 });
    await run('mount', ['-t', 'ramfs', 'ramfs', s.ov.layout.backupsDir]);
    try {
      const out = cli(['--root', r, '-q', 'reconcile', 'opt']);
      expect(out.code, out.stderr).toBe(1);
      const msg = message(out.stderr);
      expect(templates(1).some((t) => t.test(msg)), msg).toBe(true);
    } finally {
      await run('umount', [s.ov.layout.backupsDir]);
    }
  });

  it('busy (75): a busy unmount, then a lazily detached overlay still in use', async () => {
    const r = rootWith(undefined);
    fs.mkdirSync(path.join(r, 'opt/data'));
    expect(cli(['--root', r, '-q', 'mount', 'opt']).code).toBe(0);
    const sleeper = spawn('sleep', ['600'], { cwd: path.join(r, 'opt/data'), stdio: 'ignore' });
    await new Promise((ok) => sleeper.once('spawn', ok));
    try {
      for (const argv of [['unmount', 'opt'], null, ['mount', 'opt'], ['reconcile', 'opt']]) {
        if (argv === null) {
          expect(cli(['--root', r, '-q', 'unmount', '--lazy', 'opt']).code).toBe(0);
          continue;
        }
        const out = cli(['--root', r, '-q', ...argv]);
        expect(out.code, out.stderr).toBe(75);
        const msg = message(out.stderr);
        expect(templates(75).some((t) => t.test(msg)), msg).toBe(true);
      }
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((ok) => sleeper.once('exit', ok));
      cli(['--root', r, '-q', 'unmount', 'opt']);
    }
  });

  it('busy (75): an interrupted reconcile blocks mount', () => {
    const r = rootWith(undefined);
    fs.mkdirSync(path.join(r, 'var/lib/state-overlay/opt'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(r, 'var/lib/state-overlay/opt/journal'), '{}');
    const out = cli(['--root', r, '-q', 'mount', 'opt']);
    expect(out.code, out.stderr).toBe(75);
    const msg = message(out.stderr);
    expect(templates(75).some((t) => t.test(msg)), msg).toBe(true);
  });

  it.each(damaged)('failure (1): %s', (_what, provoke) => {
    let msg = '';
    try {
      provoke();
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).not.toBe('');
    expect(templates(1).some((t) => t.test(msg)), msg).toBe(true);
  });

  it('warnings: every reason an action is left out for is listed', async () => {
    const reasons = await staleReasons(fs.mkdtempSync(path.join(root, 'stale-')));
    expect(reasons.length).toBeGreaterThanOrEqual(8);
    const listed = templatesUnder('## Warnings (the run completes)');
    for (const r of reasons) expect(listed.some((t) => t.test(r)), r).toBe(true);
  });
});

/** State files damaged field by field: what a read of each throws. */
const JOURNAL = { version: 1, overlay: 'opt', origin: 'reconcile', mode: 'changed', from: null, to: 'g', manifest: null, set: '20260101T000000000Z-g', startedAt: 'now', plan: { actions: [], conflicts: [] } };
const damaged: Array<[string, () => unknown]> = [
  ['a journal action without a path', () => parseJournal(JSON.stringify({ ...JOURNAL, plan: { actions: [{ kind: 'keep', rule: 2, reason: 'r' }], conflicts: [] } }), '/var/lib/state-overlay/opt/journal', 'opt')],
  ['a journal set name with ..', () => parseJournal(JSON.stringify({ ...JOURNAL, set: '../x' }), '/var/lib/state-overlay/opt/journal', 'opt')],
  ['a journal without its conflicts', () => parseJournal(JSON.stringify({ ...JOURNAL, plan: { actions: [] } }), '/var/lib/state-overlay/opt/journal', 'opt')],
  ['a backup index entry path with ..', () => parseIndex(JSON.stringify({ version: 1, overlay: 'opt', set: 'x', entries: [{ path: '../x' }] }), '/b/index.json')],
  ['a state file with a damaged last reconcile', () => parseState('{"schemaVersion":1,"generation":null,"manifest":null,"lastReconcile":{"at":1}}', '/s/state.json')],
  ['a manifest record with type bits in its mode', () => parseManifest(Buffer.concat([v1Header(1), encodeEntry({ path: rel('d'), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, digest: '' })]).fill(0x81, 22, 23), '/m.manifest')],
  ['a progress record past the plan', () => {
    const layout = layoutFor(fs.mkdtempSync(path.join(root, 'progress-')), 'opt', '/opt');
    fs.mkdirSync(path.dirname(layout.journal), { recursive: true });
    fs.writeFileSync(progressFile(layout), '9\n');
    return readProgress(layout, 3);
  }],
  ['a garbled progress record', () => {
    const layout = layoutFor(fs.mkdtempSync(path.join(root, 'progress-')), 'opt', '/opt');
    fs.mkdirSync(path.dirname(layout.journal), { recursive: true });
    fs.writeFileSync(progressFile(layout), '1\nx\n');
    return readProgress(layout, 3);
  }],
  ['a manifest header with reserved bytes set', () => parseManifest(v1Header(0).fill(1, 6, 7), '/m.manifest')],
  ['a manifest of a future version', () => parseManifest(Buffer.from('SOVM\x03\0\0\0', 'latin1'), '/m.manifest')],
  ['a manifest cut short', () => parseManifest(encodeManifest([]).subarray(0, 30), '/m.manifest')],
  ['a manifest whose trailer does not add up', () => {
    const bytes = encodeManifest([{ path: rel('d'), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, digest: '' }]);
    return parseManifest(bytes.subarray(0, bytes.length - 3), '/m.manifest');
  }],
  ['a manifest with a changed byte', () => parseManifest(encodeManifest([{ path: rel('d'), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, digest: '' }]).fill(1, 13, 14), '/m.manifest')],
  ['a manifest whose table is out of order', () => {
    const [a, b] = [{ path: rel('a'), type: 'dir' as const, mode: 0o755, uid: 0, gid: 0, size: 0, digest: '' }, { path: rel('b'), type: 'dir' as const, mode: 0o755, uid: 0, gid: 0, size: 0, digest: '' }];
    const bytes = encodeManifest([a, b]);
    bytes.copy(bytes, bytes.length - 52, bytes.length - 56, bytes.length - 52);
    crypto.createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest().copy(bytes, bytes.length - 32);
    return parseManifest(bytes, '/m.manifest');
  }],
];

/** The reasons the executor's steps give for an action whose premise no longer holds. */
async function staleReasons(dir: string): Promise<string[]> {
  const [upper, base] = ['upper', 'base'].map((d) => path.join(dir, d)) as [string, string];
  await writeTree(upper, { 'etc/b': 'b\n', 'etc/b.rpmsave': 'old\n', 'etc/t.rpmnew': 'other\n', 'd/f': 'f\n', x: 'file\n' });
  await writeTree(base, { 'etc/a': 'new\n' });
  const sidecar = { kind: 'write-sidecar' as const, path: rel('etc/a.rpmnew'), from: rel('etc/a'), type: 'file' as const, digest: sha256('old\n'), mode: 0o644, uid: 0, gid: 0, rule: 3 as const, reason: 'r' };
  const attempts: Array<() => unknown> = [
    () => writeSidecar(base, upper, sidecar),
    () => writeSidecar(base, upper, { ...sidecar, from: rel('etc/gone') }),
    () => writeSidecar(base, upper, { ...sidecar, path: rel('etc/t.rpmnew'), digest: sha256('new\n') }),
    () => renameWithin(upper, rel('etc/b'), rel('etc/b.rpmsave')),
    () => renameWithin(upper, rel('etc/none'), rel('etc/none.rpmsave')),
    () => removeEmptyDir(upper, rel('d')),
    () => removeEmptyDir(upper, rel('x')),
    () => setAttrs(upper, { kind: 'set-attrs', path: rel('x'), mode: 0o755, uid: 0, gid: 0, rule: 9, reason: 'r' }),
  ];
  const out: string[] = [];
  for (const attempt of attempts) {
    try {
      attempt();
    } catch (err) {
      expect(err).toBeInstanceOf(StaleAction);
      out.push((err as Error).message);
    }
  }
  return out;
}
