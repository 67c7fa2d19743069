// Each exit code, with the meaning systemd-analyze exit-status gives it, from a real failure of the built CLI.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { BIN, cli } from './cli.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-exit-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
};

/** The CLI run as an unprivileged user on a root-owned tree, as `status` by a user without sudo. */
function asNobody(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    env: { PATH: process.env.PATH, INVOCATION_ID: '', JOURNAL_STREAM: '' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('exit codes', () => {
  it('uses exactly the documented codes, none that systemd calls NOTIMPLEMENTED (3) or NOTINSTALLED (5)', () => {
    expect(ExitCode).toEqual({ ok: 0, failure: 1, usage: 2, permission: 4, config: 6, notMounted: 7, busy: 75, planRefused: 150 });
  });

  it('--help lists every code', () => {
    const help = cli(['--help']).stdout.split('Exit codes:\n')[1]!;
    for (const code of Object.values(ExitCode)) expect(help).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
  });

  it.each([
    ['0 SUCCESS', 0, () => cli(['--root', root, 'config', 'opt'])],
    ['1 FAILURE: a damaged state.json', 1, () => (write('var/lib/state-overlay/opt/state.json', '{'), cli(['--root', root, 'status', 'opt']))],
    ['2 INVALIDARGUMENT: an unknown command', 2, () => cli(['frobnicate'])],
    ['2 INVALIDARGUMENT: a bad NAME', 2, () => cli(['--root', root, 'config', 'proc'])],
    ['6 NOTCONFIGURED: a bad configuration file', 6, () => (write('etc/state-overlay/opt.conf', '[Overlay]\nMode=sometimes\n'), cli(['--root', root, 'status', 'opt']))],
    ['75 TEMPFAIL: an interrupted reconcile must be finished first', 75, () => (write('opt/app/bin/tool', 'v1\n'), write('var/lib/state-overlay/opt/journal', '{}'), cli(['--root', root, 'mount', 'opt']))],
  ])('%s', (_what, code, run) => {
    const r = run();
    expect(r.code, r.stderr).toBe(code);
  });

  it.each([
    ['reconcile', ['reconcile', 'opt'], /^state-overlay: lstat \S+\/var\/lib\/state-overlay\/opt\/upper: EACCES: must be run as root\n/],
    ['status', ['status', 'opt'], /^state-overlay: cannot read \S+: EACCES: must be run as root\n/],
  ])('4 NOPERMISSION: %s by a user who is not root says "must be run as root"', (_what, args, message) => {
    fs.chmodSync(root, 0o755);
    write('opt/app/bin/tool', 'v1\n');
    fs.mkdirSync(path.join(root, 'var/lib/state-overlay'), { recursive: true, mode: 0o700 });
    const r = asNobody(['--root', root, ...args]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(message);
  });
});
