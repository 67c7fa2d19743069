// Owns pino: JSON to stdout under systemd (the journal), readable text on a terminal, JSON on stderr otherwise.
import { pino, type Logger as PinoLogger, type Level } from 'pino';
import type { LogEvent } from './events.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Log {
  info(ev: LogEvent): void;
  warn(ev: LogEvent): void;
  error(ev: LogEvent): void;
  debug(ev: LogEvent): void;
  readonly level: LogLevel;
}

/** True when started by systemd with output connected to the journal. */
export function underSystemd(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.INVOCATION_ID || env.JOURNAL_STREAM);
}

/** The errors of writing to a stream that is full or gone. */
const STREAM_FAILURES = new Set(['ENOSPC', 'EPIPE', 'EIO', 'EBADF', 'EDQUOT', 'EFBIG', 'EAGAIN']);
const isStreamFailure = (err: unknown): boolean => STREAM_FAILURES.has((err as NodeJS.ErrnoException)?.code ?? '');

/** JSON records: to the journal (stdout) under systemd, to stderr otherwise. */
function destination(): NodeJS.WritableStream {
  const dest = pino.destination({ fd: underSystemd() ? 1 : 2, sync: true });
  // Failures reported as events (not thrown) are dropped records too.
  dest.on('error', (err: unknown) => {
    if (!isStreamFailure(err)) throw err;
  });
  return dest as unknown as NodeJS.WritableStream;
}

function wrap(logger: PinoLogger, level: LogLevel): Log {
  const emit = (lvl: Level) => (ev: LogEvent) => {
    try {
      logger[lvl](ev, ev.event);
    } catch (err) {
      // A log that cannot be written (a full disk, a closed pipe) never stops the work it reports, a
      // mount above all: the record is dropped. Anything else is a bug of ours.
      if (!isStreamFailure(err)) throw err;
    }
  };
  return { info: emit('info'), warn: emit('warn'), error: emit('error'), debug: emit('debug'), level };
}

export function createLog(level: LogLevel = 'info', stream?: NodeJS.WritableStream): Log {
  const logger = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, stream ?? destination());
  return wrap(logger, level);
}

/** The command line's log: readable text on a terminal (pino-pretty, loaded only then), JSON otherwise. */
export async function openLog(level: LogLevel): Promise<Log> {
  if (underSystemd() || !process.stderr.isTTY) return createLog(level);
  const { default: PinoPretty } = await import('pino-pretty');
  return createLog(level, PinoPretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' }));
}

/** A log that records events in memory, for tests and for building summaries. */
export function memoryLog(): Log & { events: LogEvent[] } {
  const events: LogEvent[] = [];
  const push = (ev: LogEvent) => void events.push(ev);
  return { info: push, warn: push, error: push, debug: push, level: 'debug', events };
}
