// Global options normalized once into a frozen context that every command receives.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { OverlayConfig } from '../config/schema.js';
import { StateOverlayError } from '../errors.js';
import type { LogEvent } from '../log/events.js';
import { createLog, openLog, type Log, type LogLevel } from '../log/logger.js';
import { layoutFor, underRoot, type Layout } from '../paths/layout.js';
import { parseInstance } from '../systemd/instance.js';

export interface GlobalOptions {
  root?: string;
  json?: boolean;
  logLevel?: string;
  quiet?: boolean;
  verbose?: boolean;
}

export interface Context {
  readonly root: string;
  readonly json: boolean;
  readonly log: Log;
  /** Writes a line of command output to stdout. */
  out(text: string): void;
  /** Resolves NAME into its config and on-disk layout. */
  overlay(name: string): Overlay;
}

export interface Overlay {
  readonly name: string;
  readonly config: OverlayConfig;
  readonly layout: Layout;
  /** The base directory as seen on this machine (root-prefixed); the mountpoint itself when Base= is unset. */
  readonly base: string;
}

const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace', 'silent'];

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

function resolveRoot(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '/';
  const abs = path.resolve(raw);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (cause) {
    throw new StateOverlayError('usage', `--root ${raw}: no such directory`, { path: abs, cause });
  }
  if (!st.isDirectory()) throw new StateOverlayError('usage', `--root ${raw}: not a directory`, { path: abs });
  return abs === '/' ? '/' : abs;
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
    out: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
    overlay(name) {
      const hit = cache.get(name);
      if (hit) return hit;
      const instance = parseInstance(name);
      const config = loadConfig(root, instance);
      if (config.sources.length > 0) theLog.debug({ event: 'config.loaded', name, files: config.sources } satisfies LogEvent);
      const layout = layoutFor(root, name, config.path, config.mode === 'ephemeral');
      const base = underRoot(root, config.base ?? config.path);
      const ov = Object.freeze({ name, config, layout, base });
      cache.set(name, ov);
      return ov;
    },
  };
  return Object.freeze(ctx);
}
