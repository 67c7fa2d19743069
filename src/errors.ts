// Typed errors and the exit codes they map to; one printer at the top (main.ts) renders the chain.

/**
 * Documented exit codes (README "Exit codes"), with the meanings `systemd-analyze exit-status` gives
 * them, so `systemctl status` names the failure right: LSB's 2 INVALIDARGUMENT, 4 NOPERMISSION,
 * 6 NOTCONFIGURED, 7 NOTRUNNING, and BSD's 75 TEMPFAIL for what a retry may cure (LSB has no "busy",
 * and its 3 is NOTIMPLEMENTED).
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  permission: 4,
  config: 6,
  notMounted: 7,
  busy: 75,
  /** `preview --fail-on`: the plan does what the caller asked to stop on (LSB leaves 150-199 to applications). */
  planRefused: 150,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'usage'        // bad arguments or NAME
  | 'config'       // a configuration file is invalid
  | 'permission'   // the command needs root (or the owner of the state dir)
  | 'busy'         // mount busy, or the overlay's lock is held
  | 'not-mounted'  // an operation needs the overlay mounted
  | 'mounted'      // an offline operation found the overlay mounted
  | 'unsafe'       // a path fails a safety check (symlink in state path, wrong owner, ...)
  | 'io'           // a filesystem operation failed
  | 'exec'         // a subprocess failed
  | 'corrupt'      // a state file, manifest or journal cannot be read
  | 'unsupported'  // the kernel or filesystem cannot do what is needed
  | 'plan-refused' // preview --fail-on: the plan would do what was named
  | 'internal';

const exitFor: Record<ErrorCode, ExitCode> = {
  usage: ExitCode.usage,
  config: ExitCode.config,
  permission: ExitCode.permission,
  busy: ExitCode.busy,
  'not-mounted': ExitCode.notMounted,
  mounted: ExitCode.busy,
  unsafe: ExitCode.failure,
  io: ExitCode.failure,
  exec: ExitCode.failure,
  corrupt: ExitCode.failure,
  unsupported: ExitCode.failure,
  'plan-refused': ExitCode.planRefused,
  internal: ExitCode.failure,
};

export interface ErrorOptions {
  path?: string | undefined;
  cause?: unknown;
  /** The command's own document already tells this failure (status of several overlays): no Error document follows it. */
  reported?: boolean;
}

export class StateOverlayError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly reported: boolean;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StateOverlayError';
    this.code = code;
    this.path = options.path;
    this.reported = options.reported === true;
  }

  get exitCode(): ExitCode {
    return exitFor[this.code];
  }
}

/** Wraps a Node fs error with the operation and path it concerns. */
export function ioError(op: string, path: string, cause: unknown): StateOverlayError {
  const sys = cause as NodeJS.ErrnoException | undefined;
  const why = sys?.code ? `${sys.code}` : String(cause);
  // Denied to a user who is not root: the state dir and the mounts are root's, so say what fixes it.
  if ((sys?.code === 'EACCES' || sys?.code === 'EPERM') && (process.geteuid?.() ?? 0) !== 0) {
    return new StateOverlayError('permission', `${op} ${path}: ${why}: must be run as root`, { path, cause });
  }
  return new StateOverlayError('io', `${op} ${path}: ${why}`, { path, cause });
}

/** The messages of an error and its causes, outermost first, without repeats. */
export function errorChain(err: unknown): string[] {
  const lines: string[] = [];
  let cur: unknown = err;
  const seen = new Set<unknown>();
  while (cur !== undefined && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (!lines.some((l) => l.includes(msg))) lines.push(msg);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return lines;
}

export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof StateOverlayError) return err.exitCode;
  return ExitCode.failure;
}
