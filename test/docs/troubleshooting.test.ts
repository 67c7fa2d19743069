// docs/troubleshooting.md quotes real messages: each error provoked here must match a message the page
// lists under its exit code (CAPITALS and … in the page stand for the variable parts).
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

const page = read(path.join(DOCS, 'troubleshooting.md'));

/** The quoted messages of the page's tables in the section for an exit code, as anchored patterns. */
function templates(code: number): RegExp[] {
  const heading = page.split('\n').find((l) => l.startsWith('## ') && l.includes(`(exit code ${code})`));
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
  it.each([2, 3, 5, 1])('quotes messages under exit code %i', (code) => expect(templates(code).length).toBeGreaterThan(5));

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

  it.each(config)('configuration (5): %s', (_what, conf, argv) => {
    const r = cli(['--root', rootWith(conf), ...argv]);
    expect(r.code, r.stderr).toBe(5);
    const msg = message(r.stderr, true);
    expect(templates(5).some((t) => t.test(msg)), msg).toBe(true);
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

  it('busy (3): a busy unmount, then a lazily detached overlay still in use', async () => {
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
        expect(out.code, out.stderr).toBe(3);
        const msg = message(out.stderr);
        expect(templates(3).some((t) => t.test(msg)), msg).toBe(true);
      }
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((ok) => sleeper.once('exit', ok));
      cli(['--root', r, '-q', 'unmount', 'opt']);
    }
  });

  it('busy (3): an interrupted reconcile blocks mount', () => {
    const r = rootWith(undefined);
    fs.mkdirSync(path.join(r, 'var/lib/state-overlay/opt'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(r, 'var/lib/state-overlay/opt/journal'), '{}');
    const out = cli(['--root', r, '-q', 'mount', 'opt']);
    expect(out.code, out.stderr).toBe(3);
    const msg = message(out.stderr);
    expect(templates(3).some((t) => t.test(msg)), msg).toBe(true);
  });
});
