// strace as a fault injector: the syscalls a CLI run makes, read from an uninterrupted traced run, and the
// same run with SIGKILL or an errno delivered at the n-th call of one of them. strace counts calls per
// traced thread or process, so a point is named by the n-th call of the CLI's main thread. (Not with
// --seccomp-bpf: strace 6.1 then misses the n-th call of a child's thread.)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { BIN } from './harness.js';

/** Every syscall that changes a filesystem or the mount table, and the opens and closes around them. */
const SYSCALLS = [
  'openat', 'write', 'pwrite64', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'rmdir', 'mkdir', 'mkdirat', 'mknodat',
  'fsync', 'fdatasync', 'syncfs', 'link', 'linkat', 'symlinkat', 'fchmod', 'fchmodat', 'fchown', 'fchownat', 'utimensat',
  'setxattr', 'lsetxattr', 'fsetxattr', 'removexattr', 'lremovexattr', 'fremovexattr', 'mount', 'umount2', 'ftruncate',
  'copy_file_range', 'close',
] as const;

/** Traced for what they tell of the points, never points themselves. */
const CONTEXT = ['pipe2'] as const;

/** Calls of the programs the CLI runs (umount(8)) that are points: their n-th call. The CLI's own mount(2) calls are its main thread's. */
const CHILD_SYSCALLS = new Set(['mount', 'umount2']);

const ENV = { INVOCATION_ID: '', JOURNAL_STREAM: '', NOTIFY_SOCKET: '' };

export type Fault = 'SIGKILL' | 'EIO' | 'ENOSPC';

/** libuv waking its own loop (an eventfd, or the byte of its signal pipe): it aborts when that write fails. */
const LOOP_WAKEUP = /^write\(\d+, ("\\1\\0\\0\\0\\0\\0\\0\\0", 8|"\*", 1)\)/;

/**
 * The pipe libuv's spawn makes to hear of a failed exec (`pipe2([R, W], O_CLOEXEC)`): it closes W, then
 * reads R until EOF. An injected error on that close leaves W open, and libuv waits for ever: a point
 * where an errno never reaches the CLI's code.
 */
const SPAWN_PIPE = /^pipe2\(\[\d+, (\d+)\], O_CLOEXEC\) += 0/;

/** A faulted run that has not ended by then hangs (see spawnPipe): the slowest point takes a few seconds. */
const INJECT_TIMEOUT_MS = 30_000;

export interface Point {
  readonly syscall: string;
  readonly n: number;
  /** The traced call, for the report of a failing point. */
  readonly call: string;
  /**
   * No other thread of Node's reaches its n-th call of the syscall, and the call is not libuv waking its
   * own loop: an errno there reaches the CLI's code.
   */
  readonly errnoReachesCode: boolean;
}

interface Call {
  readonly tid: string;
  readonly name: string;
  readonly line: string;
}

/**
 * The calls traced by name. strace 6.1 also prints every call it has no name for, whatever the filter
 * (`syscall_0x1d1(…)`: listxattrat, newer than its table): not a point, and one it could not inject.
 */
const TRACED = new Set<string>(['execve', ...SYSCALLS, ...CONTEXT]);

function parse(text: string): Call[] {
  const out: Call[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) +([a-z0-9_]+)\(/.exec(line);
    if (m && TRACED.has(m[2]!)) out.push({ tid: m[1]!, name: m[2]!, line: line.slice(m[1]!.length).trim() });
  }
  return out;
}

const argv = (root: string, args: readonly string[]) => [process.execPath, BIN, '--root', root, '-q', ...args];

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function spawnOutcome(file: string, args: readonly string[], timeout = 120_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...ENV }, timeout });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

/**
 * Traces an uninterrupted run of the command and returns its points in the order the calls were made:
 * every call of the main thread from its first access below root on (what comes before is Node loading
 * itself), and every call of mount(2) and umount2(2) in the programs it runs.
 */
export async function tracePoints(root: string, args: readonly string[]): Promise<Point[]> {
  const file = `${root}.strace`;
  const r = await spawnOutcome('strace', ['-f', '-qq', '-o', file, '-e', `trace=execve,${[...SYSCALLS, ...CONTEXT].join(',')}`, ...argv(root, args)]);
  if (r.code !== 0) throw new Error(`traced ${args.join(' ')}: exit ${r.code ?? r.signal}: ${r.stderr}`);
  const calls = parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(file);
  const main = calls[0]!.tid;
  const children = new Set(calls.filter((c) => c.name === 'execve' && c.tid !== main).map((c) => c.tid));
  const counts = new Map<string, number>();
  const threadMost = new Map<string, number>();
  const points: Point[] = [];
  let started = false;
  const spawnPipes = new Set<string>();
  for (const c of calls) {
    if (c.name === 'execve') continue;
    if (c.name === 'pipe2') {
      const w = c.tid === main ? SPAWN_PIPE.exec(c.line)?.[1] : undefined;
      if (w !== undefined) spawnPipes.add(w);
      continue;
    }
    const key = `${c.tid} ${c.name}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (c.tid !== main && !children.has(c.tid)) threadMost.set(c.name, Math.max(threadMost.get(c.name) ?? 0, n));
    if (c.tid === main) started ||= c.line.includes(root);
    if ((c.tid === main && started) || (children.has(c.tid) && CHILD_SYSCALLS.has(c.name))) {
      const fd = c.name === 'close' && c.tid === main ? /^close\((\d+)\)/.exec(c.line)?.[1] : undefined;
      const spawnPipe = fd !== undefined && spawnPipes.delete(fd);
      points.push({ syscall: c.name, n, call: c.line.slice(0, 160), errnoReachesCode: !LOOP_WAKEUP.test(c.line) && !spawnPipe });
    }
  }
  // A child's n-th mount(2) is hit in every child: one point per n.
  const seen = new Set<string>();
  return points
    .filter((p) => !seen.has(`${p.syscall} ${p.n}`) && seen.add(`${p.syscall} ${p.n}`))
    .map((p) => ({ ...p, errnoReachesCode: p.errnoReachesCode && p.n > (threadMost.get(p.syscall) ?? 0) }));
}

/**
 * Runs the command under strace with the fault delivered at the point's call. `elsewhere`: it was also
 * delivered in another thread of Node's that reached its n-th call of the syscall (its count varies from
 * run to run), where libuv may abort on it. `spawnPipe`: the n-th close of this run (not of the traced
 * one: the count can shift by a call) was the write end of libuv's spawn pipe, which an errno never
 * reaches past (libuv then waits for ever: the run is stopped after INJECT_TIMEOUT_MS). `closedInMain`: the
 * errno went to a close(2) of the main thread: where that close is libuv's own (a child's stdio pipe after
 * a spawn), libuv aborts the process, which is then a crash like a kill.
 */
export async function injectAt(root: string, args: readonly string[], p: Point, fault: Fault): Promise<Outcome & { injected: boolean; elsewhere: boolean; spawnPipe: boolean; closedInMain: boolean; hit?: string; shifted: boolean }> {
  const how = fault === 'SIGKILL' ? 'signal=SIGKILL' : `error=${fault}`;
  const file = `${root}.inject`;
  const trace = p.syscall === 'close' ? 'execve,close,pipe2' : `execve,${p.syscall}`;
  const r = await spawnOutcome('strace', ['-f', '-qq', '-o', file, '-e', `trace=${trace}`, '-e', `inject=${p.syscall}:${how}:when=${p.n}`, ...argv(root, args)], INJECT_TIMEOUT_MS);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  fs.rmSync(file);
  const tid = (l: string) => /^\d+/.exec(l)?.[0];
  const main = tid(lines[0] ?? '');
  const children = new Set(lines.filter((l) => / execve\(/.test(l)).map(tid));
  const elsewhere = lines.some((l) => l.endsWith('(INJECTED)') && tid(l) !== main && !children.has(tid(l)));
  const ofMain = lines.filter((l) => tid(l) === main).map((l) => l.slice(main!.length).trim());
  const hit = ofMain.findIndex((l) => l.endsWith('(INJECTED)'));
  const fd = hit < 0 ? undefined : closedFd(ofMain, hit);
  const spawnPipe = fault !== 'SIGKILL' && fd !== undefined && ofMain.slice(0, hit).some((l) => SPAWN_PIPE.exec(l)?.[1] === fd);
  // A run can make fewer calls than the traced one (the counts vary by a few): then nothing was delivered.
  // (strace marks an injected errno; a SIGKILL shows as the signal the run died of.)
  const injected = fault === 'SIGKILL' ? r.signal === 'SIGKILL' : lines.some((l) => l.endsWith('(INJECTED)'));
  // The call of the main thread the errno went to (a shifted count may put it on another one than p.call).
  const call = hit < 0 ? {} : { hit: wholeCall(ofMain, hit) };
  // The errno reached another call than the traced one (its arguments differ): one of libuv's own, maybe.
  const shifted = call.hit !== undefined && argsOf(call.hit) !== argsOf(p.call);
  return { ...r, injected, elsewhere, spawnPipe, closedInMain: fault !== 'SIGKILL' && fd !== undefined, ...call, shifted };
}

/** A traced call without its result: `write(22, "x", 1) = 1` → `write(22, "x", 1)`. */
const argsOf = (call: string): string => call.replace(/\s*=\s*[^=]*$/, '');

/** The call at lines[hit], its start joined back on when strace split it (`<unfinished ...>`, then `<... NAME resumed>`). */
function wholeCall(lines: readonly string[], hit: number): string {
  const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(lines[hit]!);
  if (!resumed) return lines[hit]!;
  for (let i = hit - 1; i >= 0; i--) {
    const start = new RegExp(`^${resumed[1]}\\((.*) <unfinished \\.\\.\\.>$`).exec(lines[i]!);
    if (start) return `${resumed[1]}(${start[1]}${resumed[2]}`;
  }
  return lines[hit]!;
}

/**
 * The fd of the close(2) at lines[hit], or undefined when that call is no close. With other threads running,
 * strace splits a call in two: `close(22 <unfinished ...>`, then `<... close resumed>) = -1 … (INJECTED)`.
 */
function closedFd(lines: readonly string[], hit: number): string | undefined {
  const whole = /^close\((\d+)\)/.exec(lines[hit]!);
  if (whole) return whole[1];
  if (!lines[hit]!.startsWith('<... close resumed>')) return undefined;
  for (let i = hit - 1; i >= 0; i--) {
    const start = /^close\((\d+) <unfinished \.\.\.>$/.exec(lines[i]!);
    if (start) return start[1];
  }
  return undefined;
}

/**
 * At most `most` points spread evenly over the list: the first and the last included, or with `between`,
 * the middles of `most` equal spans (what a sweep with the others misses).
 */
export function spread<T>(all: readonly T[], most: number, between = false): T[] {
  if (all.length <= most) return [...all];
  const at = (i: number) => (between ? ((i + 0.5) * all.length) / most : (i * (all.length - 1)) / Math.max(1, most - 1));
  const picks = new Set(Array.from({ length: most }, (_, i) => Math.min(all.length - 1, Math.floor(at(i)))));
  return [...picks].map((i) => all[i]!);
}
