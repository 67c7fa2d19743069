// Builds the commander program: global options, then each command module registers itself (its
// definition only: what a command runs is loaded when it runs, so `run` pays for no other command).
import { Command, CommanderError } from 'commander';
import { StateOverlayError } from '../errors.js';
import { openContext, type CommandEnv, type Context, type GlobalOptions } from './context.js';
import { commands } from './commands/all.js';

export function buildProgram(): Command {
  const program = new Command('state-overlay');
  let ctx: Promise<Context> | undefined;
  const env: CommandEnv = {
    context: () => (ctx ??= openContext(program.opts<GlobalOptions>())),
  };
  program
    .description('writable overlays over image-shipped directories that follow OS updates')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .option('--root <DIR>', 'prefix every path (state, config, mountpoint) with DIR: image builds and scratch trees')
    .option('--json', 'machine-readable output on reporting commands')
    .option('--log-level <LEVEL>', 'error, warn, info, debug, trace or silent')
    .option('-q, --quiet', 'log warnings and errors only')
    .option('-v, --verbose', 'log debug records too, and list every step of a plan (kept paths too)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      `
Exit codes:
  0   success
  1   failure (I/O, subprocess, corrupt state, unsupported kernel, unsafe path)
  2   usage error: bad arguments, NAME or --root (INVALIDARGUMENT)
  4   must be run as root (NOPERMISSION)
  6   invalid configuration file (NOTCONFIGURED)
  7   not mounted (NOTRUNNING; reserved: no command fails for that today)
  75  busy, retry later: the overlay's lock is held, the mount is busy, or it is mounted where it
      must not be (TEMPFAIL)
  150 preview --fail-on: the plan would do what was named`,
    );
  for (const c of commands) c.register(program, env);
  return program;
}

/** Turns commander's own errors into ours so that one printer handles every failure. */
export function asUsageError(err: unknown): unknown {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return null;
    // Help asked for (`help`, `help CMD`) is success; help shown for a missing or unknown command
    // (a bare `state-overlay`, `help nosuch`) is a usage error, its usage already on stderr.
    if (err.code === 'commander.help') return err.exitCode === 0 ? null : new StateOverlayError('usage', 'no command given');
    return new StateOverlayError('usage', err.message.replace(/^error: /, ''));
  }
  return err;
}
