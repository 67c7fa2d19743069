import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { cli } from './cli.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-cli-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('command line', () => {
  it('--help lists exactly the registered commands, each with an action', () => {
    const program = buildProgram();
    const names = program.commands.map((c) => c.name());
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    for (const n of names) expect(help.stdout).toMatch(new RegExp(`^  ${n}\\b`, 'm'));
    const commandsSection = help.stdout.split('Commands:\n')[1]!.split('\n\n')[0]!;
    const listed = [...commandsSection.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]).filter((n) => n !== 'help');
    expect(listed.sort()).toEqual([...names].sort());
    for (const c of program.commands) {
      expect((c as unknown as { _actionHandler: unknown })._actionHandler, `command ${c.name()} has no action`).toBeTruthy();
    }
    expect(help.stdout).toContain('Exit codes:');
  });

  it('an unknown command is a usage error (exit 2)', () => {
    const r = cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'frobnicate'");
  });

  it('a bad NAME is a usage error that says why', () => {
    const r = cli(['--root', root, 'config', 'proc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("state-overlay: NAME 'proc': mountpoint '/proc' lies in /proc, which cannot be overlaid\n");
  });

  it('a bad configuration file exits 6 naming file, line, key and expectation', () => {
    const f = path.join(root, 'etc/state-overlay/opt.conf');
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, '[Overlay]\nReconcile=sometimes\n');
    const r = cli(['--root', root, 'config', 'opt']);
    expect(r.code).toBe(6);
    expect(r.stderr).toBe(`state-overlay: ${f}:2: Reconcile=sometimes: expected changed, all or none\n`);
  });

  it('--root must exist', () => {
    const r = cli(['--root', path.join(root, 'nope'), 'config', 'opt']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`state-overlay: --root ${path.join(root, 'nope')}: no such directory`);
  });

  it('--log-level is validated', () => {
    const r = cli(['--root', root, '--log-level', 'loud', 'config', 'opt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('state-overlay: --log-level loud: expected one of error, warn, info, debug, trace, silent\n');
  });

  it('config --json renders the effective configuration', () => {
    const r = cli(['--root', root, '--json', 'config', 'usr-local']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'usr-local', path: '/usr/local', reconcile: 'changed', backups: { keep: 5 } });
  });
});
