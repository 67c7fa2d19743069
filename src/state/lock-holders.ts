// Who holds a flock(2) on a file, as the kernel lists it in /proc/locks: the busy message names the real
// holder, an admin's flock(1) included, rather than whichever run last wrote its pid into the lock file.
import fs from 'node:fs';

/** A line of /proc/locks (locks.c lock_get_status) for a flock(2) lock that is held, not waited for. */
interface FlockEntry {
  readonly pid: number;
  readonly major: number;
  readonly minor: number;
  readonly ino: bigint;
}

/**
 * The held FLOCK entries of /proc/locks text (`1: FLOCK  ADVISORY  WRITE 1234 fe:00:5457954 0 EOF`);
 * waiters (`1: -> FLOCK …`) and POSIX or OFD locks are left out. Device numbers are in hex.
 */
export function parseFlocks(text: string): FlockEntry[] {
  const out: FlockEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+: FLOCK +\w+ +\w+ +(-?\d+) +([0-9a-f]+):([0-9a-f]+):(\d+) /.exec(line);
    if (m) out.push({ pid: Number(m[1]), major: parseInt(m[2]!, 16), minor: parseInt(m[3]!, 16), ino: BigInt(m[4]!) });
  }
  return out;
}

/** glibc's gnu_dev_major/gnu_dev_minor: the kernel's numbers of a stat st_dev. */
export function devNumbers(dev: bigint): { major: number; minor: number } {
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & 0xffffff00n)),
  };
}

/**
 * Pids holding a flock on the file with this st_dev and st_ino, as this pid namespace sees them (a holder
 * it cannot see shows as 0 and is left out); undefined when /proc/locks cannot be read.
 */
export function flockHolders(dev: bigint, ino: bigint): number[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    // No /proc (a chroot without it): the caller falls back to the pid the lock file records.
    return undefined;
  }
  const { major, minor } = devNumbers(dev);
  return parseFlocks(text)
    .filter((e) => e.major === major && e.minor === minor && e.ino === ino && e.pid > 0)
    .map((e) => e.pid);
}
