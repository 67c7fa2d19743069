// The journal's records: fields and encoding (pure), whether stderr is the journal, and the CLI under
// systemd's variables: stdout holds the one --json document, the records go to the journal.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeEntry, journalFields, MESSAGE_IDS } from '../../src/log/journal-entry.js';
import { stderrIsJournal } from '../../src/log/journal.js';
import { journalLog } from '../../src/log/logger.js';
import { BIN } from '../cli/cli.js';

const scope = { name: 'opt', target: '/opt' };

describe('journal records', () => {
  it('a drop: its priority, a human MESSAGE, and every field as STATE_OVERLAY_*', () => {
    const fields = journalFields({ event: 'reconcile.drop', path: 'app/bin/tool', rule: 3, reason: 'the base changed this path', backup: '20260101-x' }, 'info', scope);
    expect(fields).toEqual([
      ['PRIORITY', '6'],
      ['SYSLOG_IDENTIFIER', 'state-overlay'],
      ['MESSAGE', 'rule 3 drop /opt/app/bin/tool: the base changed this path'],
      ['STATE_OVERLAY_ACTION', 'drop'],
      ['STATE_OVERLAY_NAME', 'opt'],
      ['STATE_OVERLAY_EVENT', 'reconcile.drop'],
      ['STATE_OVERLAY_PATH', '/opt/app/bin/tool'],
      ['STATE_OVERLAY_RULE', '3'],
      ['STATE_OVERLAY_REASON', 'the base changed this path'],
      ['STATE_OVERLAY_BACKUP', '20260101-x'],
    ]);
  });

  it("a reset's move: no rule, so no RULE field, and the action is reset", () => {
    const fields = journalFields({ event: 'reset.entry', path: 'app/etc', rule: null, reason: 'reset: /opt/app/etc', backup: '20260101-x' }, 'info', scope);
    expect(fields).toEqual([
      ['PRIORITY', '6'],
      ['SYSLOG_IDENTIFIER', 'state-overlay'],
      ['MESSAGE', 'reset /opt/app/etc to 20260101-x'],
      ['STATE_OVERLAY_ACTION', 'reset'],
      ['STATE_OVERLAY_NAME', 'opt'],
      ['STATE_OVERLAY_EVENT', 'reset.entry'],
      ['STATE_OVERLAY_PATH', '/opt/app/etc'],
      ['STATE_OVERLAY_REASON', 'reset: /opt/app/etc'],
      ['STATE_OVERLAY_BACKUP', '20260101-x'],
    ]);
    expect(journalFields({ event: 'restore.entry', path: 'app/etc', rule: null, reason: 'r', backup: 'b' }, 'info', scope)[2]).toEqual(['MESSAGE', 'restore /opt/app/etc from b']);
  });

  it.each([
    ['warn', 4],
    ['error', 3],
    ['debug', 7],
  ] as const)('%s is PRIORITY=%i', (severity, priority) => {
    expect(journalFields({ event: 'warning', message: 'm' }, severity)[0]).toEqual(['PRIORITY', String(priority)]);
  });

  it('start, summary and failure records carry their fixed MESSAGE_ID', () => {
    const id = (ev: Parameters<typeof journalFields>[0]) => journalFields(ev, 'info').find(([k]) => k === 'MESSAGE_ID')?.[1];
    expect(id({ event: 'reconcile.start', name: 'opt', from: null, to: 'tree:x', mode: 'changed' })).toBe(MESSAGE_IDS['reconcile.start']);
    expect(id({ event: 'reconcile.done', name: 'opt', actions: 1, dropped: 1, kept: 0, ms: 3 })).toBe(MESSAGE_IDS['reconcile.done']);
    expect(id({ event: 'failed', message: 'boom', code: 'io', exitCode: 1 })).toBe(MESSAGE_IDS.failed);
    expect(id({ event: 'mount.done', name: 'opt', target: '/opt', lower: 'l', upper: 'u' })).toBeUndefined();
    for (const v of Object.values(MESSAGE_IDS)) expect(v).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(Object.values(MESSAGE_IDS)).size).toBe(Object.keys(MESSAGE_IDS).length);
  });

  it('lists repeat their field', () => {
    expect(journalFields({ event: 'config.loaded', name: 'opt', files: ['/a', '/b'] }, 'debug').filter(([k]) => k === 'STATE_OVERLAY_FILES')).toEqual([
      ['STATE_OVERLAY_FILES', '/a'],
      ['STATE_OVERLAY_FILES', '/b'],
    ]);
  });

  it('a nested record gives a field per member, a list in it one per element', () => {
    const flattened = { overlay: '/', lowers: ['/l1/opt', '/l2/opt'] };
    expect(journalFields({ event: 'mount.done', name: 'opt', target: '/opt', lower: '/run/b', upper: '/u', flattened }, 'info').filter(([k]) => k.startsWith('STATE_OVERLAY_FLATTENED'))).toEqual([
      ['STATE_OVERLAY_FLATTENED_OVERLAY', '/'],
      ['STATE_OVERLAY_FLATTENED_LOWERS', '/l1/opt'],
      ['STATE_OVERLAY_FLATTENED_LOWERS', '/l2/opt'],
    ]);
  });

  it('encodes KEY=value lines, and a value with a newline in the binary-safe form', () => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(3n);
    expect(encodeEntry([['PRIORITY', '6'], ['MESSAGE', 'a\nb']])).toEqual(Buffer.concat([Buffer.from('PRIORITY=6\nMESSAGE\n'), len, Buffer.from('a\nb\n')]));
  });

  it('without the native socket: <N>-prefixed lines on the stream, below the level dropped', () => {
    const lines: string[] = [];
    const log = journalLog('info', null, (l) => lines.push(l));
    log.about!(scope);
    log.debug({ event: 'warning', message: 'hidden' });
    log.warn({ event: 'reconcile.conflict', path: 'etc/x', rule: 6, reason: 'r' });
    expect(lines).toEqual(['<4>rule 6 conflict at /opt/etc/x: r\n']);
  });
});

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-journal-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const streamOf = (fd: number) => {
  const st = fs.fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}`;
};

describe('JOURNAL_STREAM', () => {
  it('is the journal only when it names stderr itself', () => {
    const fd = fs.openSync(path.join(dir, 'stream'), 'w');
    try {
      expect(stderrIsJournal({ JOURNAL_STREAM: streamOf(fd) }, fd)).toBe(true);
      expect(stderrIsJournal({ JOURNAL_STREAM: '1:2' }, fd)).toBe(false);
      expect(stderrIsJournal({}, fd)).toBe(false);
    } finally {
      fs.closeSync(fd);
    }
  });

  it.each([['stderr is the journal', true], ['stderr redirected since', false]])('--json under systemd (%s): stdout is one document, no record in it', (_what, isJournal) => {
    const errFd = fs.openSync(path.join(dir, 'stderr'), 'w');
    try {
      const r = spawnSync(process.execPath, [BIN, '--root', dir, '--json', 'config', 'opt'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', errFd],
        // No journald here: the records take the stream with their priority prefix.
        env: { ...process.env, INVOCATION_ID: 'x', JOURNAL_STREAM: isJournal ? streamOf(errFd) : '1:2', NOTIFY_SOCKET: '' },
      });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ apiVersion: 'state-overlay/v1', kind: 'Config' });
      const failed = spawnSync(process.execPath, [BIN, '--root', dir, '--json', 'config', 'proc'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', errFd],
        env: { ...process.env, INVOCATION_ID: 'x', JOURNAL_STREAM: isJournal ? streamOf(errFd) : '1:2', NOTIFY_SOCKET: '' },
      });
      expect(failed.status).toBe(2);
      expect(JSON.parse(failed.stdout)).toMatchObject({ kind: 'Error', code: 'usage' });
      const err = fs.readFileSync(path.join(dir, 'stderr'), 'utf8');
      expect(err).toBe(
        isJournal ? "<3>NAME 'proc': mountpoint '/proc' lies in /proc, which cannot be overlaid\n" : "state-overlay: NAME 'proc': mountpoint '/proc' lies in /proc, which cannot be overlaid\n",
      );
    } finally {
      fs.closeSync(errFd);
    }
  });
});
