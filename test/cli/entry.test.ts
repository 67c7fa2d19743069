// The entry point: a module of the program that cannot be read (EIO from a failing disk) is one line on
// stderr and exit 1, not Node's stack trace of a failed static import; the same for a module a command loads
// when it runs, where Node 20 also reports the failure as an unhandled rejection of its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tryRun } from '../../src/exec.js';
import { BIN } from './cli.js';

describe('bin/state-overlay.js', () => {
  it('reports a program file it cannot read in one line, exit 1', async () => {
    const program = path.resolve(path.dirname(BIN), '../dist/cli/program.js');
    const r = await tryRun('strace', ['-f', '-qq', '-o', '/dev/null', '-P', program, '-e', 'trace=openat', '-e', 'inject=openat:error=EIO', process.execPath, BIN, '-q', 'status']);
    expect(r.stderr).toBe(`state-overlay: cannot load the program: EIO: i/o error, open '${program}'`);
    expect(r.exitCode).toBe(1);
  });

  it('reports a module a command loads lazily that it cannot read in one line, exit 1, and changes nothing', async () => {
    // picomatch is CommonJS: reconcile and its renderer both import it, in parallel, when the command runs.
    const lib = path.resolve(path.dirname(BIN), '../node_modules/picomatch/lib/parse.js');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-entry-'));
    try {
      fs.mkdirSync(path.join(root, 'var/lib/state-overlay/opt/upper'), { recursive: true });
      fs.writeFileSync(path.join(root, 'var/lib/state-overlay/opt/upper/f'), 'host\n');
      const r = await tryRun('strace', ['-f', '-qq', '-o', '/dev/null', '-P', lib, '-e', 'trace=openat', '-e', 'inject=openat:error=EIO', process.execPath, BIN, '--root', root, '-q', 'reconcile', 'opt']);
      expect(r.stderr).toBe(`state-overlay: EIO: i/o error, open '${lib}'`);
      expect(r.exitCode).toBe(1);
      expect(fs.readFileSync(path.join(root, 'var/lib/state-overlay/opt/upper/f'), 'utf8')).toBe('host\n');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
