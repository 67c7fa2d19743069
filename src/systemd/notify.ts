// sd_notify(3) through systemd-notify(1): READY=1 and STATUS= for the unit; a no-op outside systemd.
// Node has no AF_UNIX datagram sockets, so the message is sent by systemd-notify on behalf of our PID.
import { tryRun } from '../exec.js';
import type { Log } from '../log/logger.js';

export interface Notifier {
  /** True when NOTIFY_SOCKET is set (started by systemd with Type=notify). */
  readonly active: boolean;
  ready(status?: string): Promise<void>;
  /** Progress for `systemctl status`; calls closer together than minIntervalMs are coalesced. */
  status(text: string): Promise<void>;
  /** Flushes a coalesced status, if any. */
  flush(): Promise<void>;
}

export interface NotifierOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly pid?: number;
  /**
   * A helper run by ExecReload=, not the main process: it reports STATUS= only, never READY=1 or MAINPID=
   * (it would become the unit's main process and then exit).
   */
  readonly helper?: boolean;
  readonly minIntervalMs?: number;
  readonly log?: Log;
}

/** The argv of systemd-notify for one message (pure); without a pid the message speaks for systemd-notify itself. */
export function notifyArgs(pid: number | undefined, assignments: readonly string[]): string[] {
  return pid === undefined ? [...assignments] : [`--pid=${pid}`, ...assignments];
}

/** STATUS= carries one line: newlines would end the assignment. */
export const statusLine = (text: string): string => `STATUS=${text.replace(/[\r\n]+/g, ' ').slice(0, 400)}`;

export function createNotifier(opts: NotifierOptions = {}): Notifier {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  const pid = opts.helper ? undefined : (opts.pid ?? process.pid);
  const minInterval = opts.minIntervalMs ?? 1000;
  let last = 0;
  let pending: string | undefined;

  // Messages go out one at a time, in call order: a late progress line must not follow the last status.
  let queue: Promise<void> = Promise.resolve();
  const send = (assignments: string[]): Promise<void> => {
    if (!socket) return Promise.resolve();
    queue = queue.then(() => sendNow(assignments));
    return queue;
  };
  const sendNow = async (assignments: string[]): Promise<void> => {
    if (!socket) return;
    const r = await tryRun('systemd-notify', notifyArgs(pid, assignments), { env: { NOTIFY_SOCKET: socket } }).catch((err: unknown) => ({
      exitCode: -1,
      stdout: '',
      stderr: String((err as Error).message),
    }));
    // Telling systemd is best effort: a lost STATUS= must not fail a mount.
    if (r.exitCode !== 0) opts.log?.warn({ event: 'warning', message: `systemd-notify ${assignments.join(' ')}: ${r.stderr.trim() || `exit ${r.exitCode}`}` });
  };

  return {
    active: Boolean(socket),
    ready: (status) => {
      if (opts.helper) return status === undefined ? Promise.resolve() : send([statusLine(status)]);
      return send(status === undefined ? ['READY=1'] : ['READY=1', statusLine(status)]);
    },
    async status(text) {
      const now = Date.now();
      if (now - last < minInterval) {
        pending = text;
        return;
      }
      last = now;
      pending = undefined;
      await send([statusLine(text)]);
    },
    async flush() {
      if (pending === undefined) return;
      const text = pending;
      pending = undefined;
      last = Date.now();
      await send([statusLine(text)]);
    },
  };
}
