// Owns execa: every subprocess runs from an argv array (never a shell), with stderr capped in errors.
import { execa } from 'execa';
import { StateOverlayError } from './errors.js';

/** Longest stderr tail kept in an error message. */
export const STDERR_CAP = 2000;

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Extra environment variables (the parent's environment is inherited). */
  readonly env?: Record<string, string | undefined>;
  /** Input written to the child's stdin. */
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** The last STDERR_CAP characters of a stream, trimmed, marked when cut. */
export function capStderr(text: string): string {
  const t = text.trim();
  return t.length <= STDERR_CAP ? t : `…${t.slice(t.length - STDERR_CAP)}`;
}

/** Runs a program and returns its result whatever its exit status; fails only when it cannot start or times out. */
export async function tryRun(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await execa(file, args, {
    reject: false,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    ...(opts.input === undefined ? {} : { input: opts.input }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
    ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
    stripFinalNewline: true,
  });
  const argv = [file, ...args].join(' ');
  if (r.failed && r.exitCode === undefined) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs} ms` : (r.cause as Error | undefined)?.message ?? r.shortMessage;
    throw new StateOverlayError('exec', `${argv}: ${why}`, { cause: r.cause ?? r });
  }
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Runs a program; a non-zero exit becomes an 'exec' error carrying the command line and capped stderr. */
export async function run(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await tryRun(file, args, opts);
  if (r.exitCode !== 0) throw execFailure(file, args, r);
  return r;
}

export function execFailure(file: string, args: readonly string[], r: ExecResult): StateOverlayError {
  const tail = capStderr(r.stderr);
  return new StateOverlayError('exec', `${[file, ...args].join(' ')}: exit status ${r.exitCode}${tail ? `: ${tail}` : ''}`);
}
