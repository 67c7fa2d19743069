// Global options normalized once into a frozen context that every command receives.
import fs from 'node:fs';
import path from 'node:path';
import { ioError, StateOverlayError } from '../errors.js';
import { createLog, openLog, type Log, type LogLevel } from '../log/logger.js';
import { resolveOverlay, type Overlay } from '../overlay/overlay.js';

export interface GlobalOptions {
  root?: string;
  json?: boolean;
  logLevel?: string;
  quiet?: boolean;
  verbose?: boolean;
}

/** What a command module gets from the program. */
export interface CommandEnv {
  /** The context for the running command (global options parsed once, on first use). */
  context(): Promise<Context>;
}

export interface Context {
  readonly root: string;
  readonly json: boolean;
  readonly log: Log;
  /** -v: plans list every step, plain keeps too (otherwise they are counted, not listed). */
  readonly verbose: boolean;
  /** Writes a line of command output to stdout. */
  out(text: string): void;
  /** Resolves NAME into its config and on-disk layout. */
  overlay(name: string): Overlay;
}

export const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(opts: GlobalOptions): LogLevel {
  if (opts.logLevel !== undefined) {
    if (!(LEVELS as readonly string[]).includes(opts.logLevel)) {
      throw new StateOverlayError('usage', `--log-level ${opts.logLevel}: expected one of ${LEVELS.join(', ')}`);
    }
    return opts.logLevel as LogLevel;
  }
  if (opts.quiet) return 'warn';
  if (opts.verbose) return 'debug';
  return 'info';
}

/**
 * The root, resolved once to its real path: every path below it is then the one the kernel shows in
 * mountinfo, whichever spelling (a symlink, `..`) the command line used.
 */
function resolveRoot(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '/';
  const abs = path.resolve(raw);
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new StateOverlayError('usage', `--root ${raw}: no such directory`, { path: abs, cause });
    throw ioError('cannot resolve --root', abs, cause);
  }
  if (!fs.statSync(real).isDirectory()) throw new StateOverlayError('usage', `--root ${raw}: not a directory`, { path: abs });
  return real;
}

/** The command line's context: as createContext, with the log a terminal gets (readable text on a TTY). */
export async function openContext(opts: GlobalOptions): Promise<Context> {
  return createContext(opts, await openLog(logLevel(opts)));
}

export function createContext(opts: GlobalOptions, log?: Log): Context {
  const root = resolveRoot(opts.root);
  const theLog = log ?? createLog(logLevel(opts));
  const cache = new Map<string, Overlay>();
  const ctx: Context = {
    root,
    json: Boolean(opts.json),
    log: theLog,
    verbose: Boolean(opts.verbose),
    out: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
    overlay(name) {
      const hit = cache.get(name);
      if (hit) return hit;
      const ov = resolveOverlay(root, name, theLog);
      theLog.about?.({ name, target: ov.layout.target });
      cache.set(name, ov);
      return ov;
    },
  };
  return Object.freeze(ctx);
}
