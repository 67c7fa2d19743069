// The entry point: a module of the program that cannot be read (EIO from a failing disk) is one line on
// stderr and exit 1, not Node's stack trace of a failed static import.
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
});
