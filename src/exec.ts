// Owns subprocesses: every one runs from an argv array (never a shell), with stderr capped in errors.
// node:child_process directly: a process library's whole module graph would cost the commands that
// start a program or two (umount(8), modprobe(8)) more than the spawns themselves.
import { spawn } from 'node:child_process';
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
  /** 'latin1': stdout as a binary string (one char per byte), for output that carries raw file names. */
  readonly stdoutEncoding?: 'utf8' | 'latin1';
}

/** The last STDERR_CAP characters of a stream, trimmed, marked when cut. */
export function capStderr(text: string): string {
  const t = text.trim();
  return t.length <= STDERR_CAP ? t : `…${t.slice(t.length - STDERR_CAP)}`;
}

const stripFinalNewline = (s: string): string => s.replace(/\r?\n$/, '');

/** Runs a program and returns its result whatever its exit status; fails only when it cannot start, is killed or times out. */
export function tryRun(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const argv = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }),
      ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    // Cannot start (ENOENT, EACCES): no 'close' follows for certain, so fail here.
    child.on('error', (e) => {
      if (child.pid === undefined) reject(new StateOverlayError('exec', `${argv}: ${e.message}`, { cause: e }));
    });
    if (opts.input !== undefined && child.stdin) {
      // A child that exits without reading its input closes the pipe: that is its business, not a failure.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
    child.on('close', (code, signal) => {
      if (child.pid === undefined) return;
      if (code === null) {
        const why = opts.timeoutMs !== undefined && child.killed ? `timed out after ${opts.timeoutMs} ms` : `killed by ${signal ?? 'a signal'}`;
        reject(new StateOverlayError('exec', `${argv}: ${why}`));
        return;
      }
      resolve({ exitCode: code, stdout: stripFinalNewline(Buffer.concat(out).toString(opts.stdoutEncoding ?? 'utf8')), stderr: stripFinalNewline(Buffer.concat(err).toString('utf8')) });
    });
  });
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
