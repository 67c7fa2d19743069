// Owns the command line's log: native journal records when stderr is the journal, else pino: readable
// text on a terminal, JSON lines on stderr otherwise. Never stdout: that is the command's output.
import fs from 'node:fs';
import { pino, type Logger as PinoLogger, type Level } from 'pino';
import type { LogEvent } from './events.js';
import { encodeEntry, journalFields, PRIORITY, type Severity } from './journal-entry.js';
import { openJournalSocket, stderrIsJournal, type JournalSocket } from './journal.js';
import { messageOf, type Scope } from './message.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Log {
  info(ev: LogEvent): void;
  warn(ev: LogEvent): void;
  error(ev: LogEvent): void;
  debug(ev: LogEvent): void;
  readonly level: LogLevel;
  /** The overlay the records that follow concern: the journal names it, and its paths under the mountpoint. */
  about?(scope: Scope): void;
}

/** The errors of writing to a stream that is full or gone. */
const STREAM_FAILURES = new Set(['ENOSPC', 'EPIPE', 'EIO', 'EBADF', 'EDQUOT', 'EFBIG', 'EAGAIN']);
const isStreamFailure = (err: unknown): boolean => STREAM_FAILURES.has((err as NodeJS.ErrnoException)?.code ?? '');

/** JSON records on stderr. */
function destination(): NodeJS.WritableStream {
  const dest = pino.destination({ fd: 2, sync: true });
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

const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: Infinity };

/**
 * Records to the journal: native entries through `socket`, or, without one, lines on the journal's
 * stderr stream with a `<N>` priority prefix (SyslogLevelPrefix=, on by default): the priority and the
 * message survive, the fields do not.
 */
export function journalLog(level: LogLevel, socket: JournalSocket | null, writeLine: (line: string) => void = (l) => void fs.writeSync(2, l)): Log {
  let scope: Scope | undefined;
  const emit = (severity: Severity) => (ev: LogEvent) => {
    if (RANK[severity] < RANK[level]) return;
    try {
      if (socket !== null) socket.send(encodeEntry(journalFields(ev, severity, scope)));
      else writeLine(`<${PRIORITY[severity]}>${messageOf(ev, scope).replace(/\n/g, ' ')}\n`);
    } catch (err) {
      // As for pino's records: a journal that cannot take a record never stops the work it reports.
      if (!isStreamFailure(err) && !['ECONNREFUSED', 'ENOENT', 'EIO', 'EMSGSIZE'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  };
  return { info: emit('info'), warn: emit('warn'), error: emit('error'), debug: emit('debug'), level, about: (s) => void (scope = s) };
}

/** The native socket, or null (no addon built, no journald): the caller falls back to the stream. */
function journalSocket(): JournalSocket | null {
  try {
    return openJournalSocket();
  } catch {
    return null;
  }
}

let theJournal: Log | undefined;

/** The journal's log when stderr is the journal (one per process: main.ts sends the failure record through it), else null. */
export function journal(level: LogLevel = 'info'): Log | null {
  if (!stderrIsJournal()) return null;
  return (theJournal ??= journalLog(level, journalSocket()));
}

/** The command line's log: the journal when stderr is it, readable text on a terminal (pino-pretty, loaded only then), JSON otherwise. */
export async function openLog(level: LogLevel): Promise<Log> {
  const j = journal(level);
  if (j !== null) return j;
  if (!process.stderr.isTTY) return createLog(level);
  const { default: PinoPretty } = await import('pino-pretty');
  return createLog(level, PinoPretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' }));
}

/** A log that records events in memory, for tests and for building summaries. */
export function memoryLog(): Log & { events: LogEvent[] } {
  const events: LogEvent[] = [];
  const push = (ev: LogEvent) => void events.push(ev);
  return { info: push, warn: push, error: push, debug: push, level: 'debug', events };
}
