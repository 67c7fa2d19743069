// Every reporting command with --json, on a real scratch overlay: stdout is one JSON document with the
// one apiVersion and the command's kind, valid against its published schema; run --watch prints one per line.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS } from '../../src/cli/render/json.js';
import { cli, makeScratch, type Scratch } from '../mount/scratch.js';
import { INVALID_UTF8, bpath } from '../tree/fixtures.js';
import { check } from './render/schema-check.js';

type Schema = Record<string, unknown> & { $defs: Record<string, Record<string, unknown>> };
const schemaOf = (file: string) => JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../docs', file), 'utf8')) as Schema;
const statusSchema = schemaOf('status.schema.json');
const cliSchema = schemaOf('cli.schema.json');

// Logs go to stderr, never into the document: not under systemd, whatever runs the tests.
const ENV = { INVOCATION_ID: '', JOURNAL_STREAM: '', NOTIFY_SOCKET: '' };
const BIN = path.resolve(import.meta.dirname, '../../bin/state-overlay.js');

/** The one document a command printed, checked against the schema of its kind. */
function documentOf(stdout: string, kind: string): Record<string, unknown> {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  expect([doc.apiVersion, doc.kind]).toEqual(['state-overlay/v1', kind]);
  expect(kind === 'Status' ? check(statusSchema, doc) : [...check(cliSchema, doc), ...check(cliSchema, doc, cliSchema.$defs[kind])]).toEqual([]);
  return doc;
}

let s: Scratch;
beforeEach(() => {
  s = makeScratch();
});
afterEach(() => s.cleanup());

describe('--json', () => {
  it('every reporting command prints one document of its kind', async () => {
    const seen = new Set<string>();
    const json = async (kind: string, ...args: string[]) => {
      const r = await cli(s.root, ['-q', '--json', ...args], ENV);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.exitCode, args.join(' ')).toBe(0);
      seen.add(kind);
      return documentOf(r.stdout, kind);
    };
    const target = path.join(s.root, 'opt');
    await json('Config', 'config', 'opt');
    await json('IndexReport', 'index', 'opt');
    await json('RunReport', 'run', 'opt');
    expect(await json('MountReport', 'mount', 'opt')).toMatchObject({ mounted: true, changed: false });
    // a shadow, an identical copy-up and a name that is not UTF-8, made through the mount
    fs.writeFileSync(path.join(target, 'app/bin/tool'), 'mine\n');
    fs.writeFileSync(path.join(target, 'app/etc/app.conf'), 'a=1\n');
    fs.writeFileSync(bpath(target, INVALID_UTF8), 'x');
    const diff = await json('Diff', 'diff', 'opt');
    const odd = (diff.entries as { path: string; pathBase64: string }[]).find((e) => e.path === 'b\\xff\\xfe\\x80.c');
    expect(Buffer.from(odd!.pathBase64, 'base64')).toEqual(INVALID_UTF8);
    await json('Status', 'status');
    await json('Status', 'status', 'opt');
    expect(await json('UnmountReport', 'unmount', 'opt')).toMatchObject({ mounted: false, changed: true });

    await json('VacuumReport', 'vacuum', 'opt', '--dry-run');
    expect(await json('PreviewReport', 'preview', 'opt', '--base', path.join(s.root, 'opt'))).toMatchObject({ dryRun: true, refused: null });
    fs.writeFileSync(path.join(s.root, 'opt/app/bin/tool'), 'v2\n');
    expect(await json('ReconcileReport', 'reconcile', 'opt', '--dry-run')).toMatchObject({ dryRun: true, upToDate: false });
    const done = await json('ReconcileReport', 'reconcile', 'opt');
    expect(done.actions).toContainEqual(expect.objectContaining({ kind: 'move-to-backups', path: 'app/bin/tool', rule: 3 }));
    const sets = await json('BackupSets', 'backups', 'opt');
    expect(sets.sets).toHaveLength(1);
    expect(await json('RestoreReport', 'restore', 'opt', done.backupSet as string, '/opt/app/bin/tool')).toMatchObject({
      restored: ['app/bin/tool'],
      restoredBase64: [Buffer.from('app/bin/tool').toString('base64')],
    });
    await json('VacuumReport', 'vacuum', 'opt');
    await json('ReconcileReport', 'reconcile', 'opt');
    expect(await json('ResetReport', 'reset', 'opt', '--dry-run')).toMatchObject({ dryRun: true, set: null });
    const reset = await json('ResetReport', 'reset', 'opt', 'app/bin/*');
    expect(reset.actions).toEqual([expect.objectContaining({ kind: 'move-to-backups', path: 'app/bin/tool', rule: null })]);
    expect((await json('BackupSets', 'backups', 'opt')).sets).toContainEqual(expect.objectContaining({ set: reset.set, origin: 'reset', entries: [expect.objectContaining({ rule: null })] }));
    // a failure is a document too, with the exit code it says
    const failure = async (code: string, exitCode: number, ...args: string[]) => {
      const r = await cli(s.root, ['-q', '--json', ...args], ENV);
      expect(r.exitCode, args.join(' ')).toBe(exitCode);
      seen.add('Error');
      return expect(documentOf(r.stdout, 'Error')).toMatchObject({ code, exitCode });
    };
    await failure('usage', 2, 'config', 'proc');
    await failure('usage', 2, 'status', '--no-such-option');
    s.write('etc/state-overlay/srv.conf', '[Overlay]\nReconcile=sometimes\n');
    await failure('config', 6, 'config', 'srv');
    s.write('var/lib/state-overlay/opt/journal', '{}');
    await failure('busy', 75, 'mount', 'opt');
    // every kind but the watch's own (below) was printed, and each has its schema
    expect([...seen].sort()).toEqual([...KINDS].sort());
    expect(Object.keys(cliSchema.$defs).filter((k) => /^[A-Z]/.test(k)).sort()).toEqual(KINDS.filter((k) => k !== 'Status').sort());
  });

  it('run --watch prints one RunReport per line: the start, then each reload', async () => {
    s.write('usr/lib/opt/app/bin/tool', 'img1\n');
    s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/usr/lib/opt\n');
    const child = spawn(process.execPath, [BIN, '--root', s.root, '-q', '--json', 'run', '--watch', 'opt'], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines = () => stdout.split('\n').filter(Boolean).length;
    const until = async (n: number, ms: number) => {
      for (let t = 0; t < ms && lines() < n; t += 100) await new Promise((r) => setTimeout(r, 100));
    };
    try {
      await until(1, 30_000);
      // The watch starts after the first document; a change made before it is ready goes unseen, so change again.
      for (let i = 2; i <= 4 && lines() < 2; i++) {
        await new Promise((r) => setTimeout(r, 500));
        s.write('usr/lib/opt/app/bin/tool', `img${i}\n`);
        await until(2, 8_000);
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    const docs = stdout.trimEnd().split('\n').map((l) => documentOf(l, 'RunReport'));
    expect(docs.length).toBeGreaterThanOrEqual(2);
    expect(docs[1]).toMatchObject({ reconciled: true, mounted: true, changed: true, deferred: false });
  });
});
