// Owns the way to the journal: whether this process logs to it (JOURNAL_STREAM), and the native socket.
//
// Why a native addon: the journal's fields (STATE_OVERLAY_RULE=…) exist only in its native protocol,
// datagrams on /run/systemd/journal/socket, and Node has no AF_UNIX datagram sockets. The stream that
// systemd connects to stdout/stderr carries a priority per line (`<4>`, SyslogLevelPrefix=) but no
// fields; `logger --journald` or systemd-cat would cost a process per record (a reconcile logs one per
// path). So the project's addon (native/syscalls.c) opens the socket and sends each entry (a sealed memfd
// when large); the encoding stays here, in TypeScript. Without the socket, records fall back to that stream.
import fs from 'node:fs';
import { journalOpen, journalSend } from '../native/syscalls.js';

/** The native journal socket (systemd-journald.socket). */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/**
 * True when stderr is the journal's stream: systemd sets JOURNAL_STREAM to its `device:inode`, and a
 * process whose stderr was redirected since (a pipe, a file) must not take the variable for itself.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (m === null) return false;
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    // a closed stderr is no journal
    return false;
  }
}

export interface JournalSocket {
  /** Sends one encoded entry; throws as send(2) fails. */
  send(entry: Buffer): void;
}

/** A connection to the journal's native socket; throws when there is none (no addon, no journald). */
export function openJournalSocket(socket = JOURNAL_SOCKET): JournalSocket {
  const fd = journalOpen(socket);
  return { send: (entry) => journalSend(fd, entry) };
}
