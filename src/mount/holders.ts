// Finds the processes that keep a mount busy: cwd, root, open files and mapped files under it (/proc scan).
import fs from 'node:fs';
import { within } from './preflight.js';

export interface Holder {
  readonly pid: number;
  /** The command line (argv joined by spaces), or the comm name when the cmdline is empty. */
  readonly command: string;
  /** How it holds the mount: cwd, root, fd N, or map. */
  readonly how: readonly string[];
}

/**
 * Codes after which nothing counts as held through what was read. /proc is read while processes come and
 * go: ENOENT and ESRCH mean the process exited (or closed the fd) meanwhile; EACCES, that it is not ours
 * to inspect. ENAMETOOLONG: the link's target lies too deep for its path to be read (past a page), so it
 * cannot be matched by path and goes unnamed.
 */
const NOT_HELD = new Set(['ENOENT', 'ESRCH', 'EACCES', 'ENAMETOOLONG']);

function command(pid: number): string {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (argv.length > 0) return argv.join(' ');
  } catch {
    // Any failure: the name only labels a holder already found; try comm.
  }
  try {
    return `[${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return '?'; // any failure: shown as unknown, never as another name
  }
}

/** The paths in /proc/PID/maps text that lie under dir (pure). */
export function mappedUnder(mapsText: string, dir: string): string[] {
  const out = new Set<string>();
  for (const line of mapsText.split('\n')) {
    // address perms offset dev inode pathname: the path starts at the first '/' after the fifth field
    const m = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (!m) continue;
    const file = m[1]!.replace(/ \(deleted\)$/, '');
    if (within(file, dir)) out.add(file);
  }
  return [...out];
}

function holderOf(pid: number, dirs: readonly string[]): Holder | undefined {
  const how: string[] = [];
  // A read that fails otherwise is no answer: the process is listed as what could not be read, not dropped.
  const read = <T>(what: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (!NOT_HELD.has(code)) how.push(`${what} unreadable (${code})`);
      return undefined;
    }
  };
  const under = (p: string | undefined) => p !== undefined && dirs.some((d) => within(p, d));
  const link = (what: string, name: string) => under(read(what, () => fs.readlinkSync(`/proc/${pid}/${name}`)));
  if (link('cwd', 'cwd')) how.push('cwd');
  if (link('root', 'root')) how.push('root');
  for (const fd of read('fds', () => fs.readdirSync(`/proc/${pid}/fd`)) ?? []) if (link(`fd ${fd}`, `fd/${fd}`)) how.push(`fd ${fd}`);
  const maps = read('maps', () => fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
  if (maps !== undefined && dirs.some((d) => mappedUnder(maps, d).length > 0)) how.push('map');
  return how.length > 0 ? { pid, command: command(pid), how } : undefined;
}

/** Every process (but this one) holding something under any of dirs, by pid. */
export function findHolders(dirs: readonly string[], self = process.pid): Holder[] {
  const out: Holder[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === self) continue;
    const h = holderOf(pid, dirs);
    if (h) out.push(h);
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** `pid 1234 (sleep 600): cwd, fd 3` lines for an error message. */
export function describeHolders(holders: readonly Holder[]): string {
  return holders.map((h) => `pid ${h.pid} (${h.command}): ${h.how.join(', ')}`).join('; ');
}
