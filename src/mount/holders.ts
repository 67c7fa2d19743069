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

function readlink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

function command(pid: number): string {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (argv.length > 0) return argv.join(' ');
  } catch {
    // the process exited
  }
  try {
    return `[${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return '?';
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
  const under = (p: string | undefined) => p !== undefined && dirs.some((d) => within(p, d));
  if (under(readlink(`/proc/${pid}/cwd`))) how.push('cwd');
  if (under(readlink(`/proc/${pid}/root`))) how.push('root');
  let fds: string[] = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    // exited, or not ours to read
  }
  for (const fd of fds) if (under(readlink(`/proc/${pid}/fd/${fd}`))) how.push(`fd ${fd}`);
  try {
    const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    if (dirs.some((d) => mappedUnder(maps, d).length > 0)) how.push('map');
  } catch {
    // exited, or a kernel thread
  }
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
