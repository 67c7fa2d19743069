// Finds the processes that keep a mount busy, or a detached overlay alive: cwd, root, open files and
// mapped files under it, or on its device (/proc scan).
import fs from 'node:fs';
import { ioError, StateOverlayError } from '../errors.js';
import { devName, fileId, layerId, sameId, type FileId } from './identity.js';
import { readMountinfo } from './mountinfo.js';
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

/** The devices (`major:minor`, hex in the text) of the files a /proc/PID/maps text maps (pure). */
export function mappedDevices(mapsText: string): Set<string> {
  const out = new Set<string>();
  for (const line of mapsText.split('\n')) {
    const m = /^\S+\s+\S+\s+\S+\s+([0-9a-f]+):([0-9a-f]+)\s+(\d+)/.exec(line);
    if (m && m[3] !== '0') out.add(`${parseInt(m[1]!, 16)}:${parseInt(m[2]!, 16)}`);
  }
  return out;
}

/** What counts as holding: a /proc/PID link (cwd, root, fd/N) and a maps text, each read by the matcher. */
interface Matcher {
  readonly link: (procPath: string) => boolean;
  readonly maps: (text: string) => boolean;
}

/** Held by path: the link's target, or a mapped file, lies under one of dirs (a mounted tree). */
function underDirs(dirs: readonly string[]): Matcher {
  const under = (p: string) => dirs.some((d) => within(p, d));
  return { link: (p) => under(fs.readlinkSync(p)), maps: (text) => dirs.some((d) => mappedUnder(text, d).length > 0) };
}

/**
 * Held by device: the link's file is on the filesystem `dev` (stat through the link reaches it even on a
 * detached mount, whose paths read as nothing useful), or a mapped file is on it. Kernels before 6.6 show
 * a mapping of an overlay file as the file of the upper it maps: a mapped path under upper counts too.
 */
function onDevice(dev: string, upper: string): Matcher {
  return {
    link: (p) => devName(fs.statSync(p, { bigint: true }).dev) === dev,
    maps: (text) => mappedDevices(text).has(dev) || mappedUnder(text, upper).length > 0,
  };
}

function holderOf(pid: number, match: Matcher, how: string[] = []): Holder | undefined {
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
  const link = (what: string, name: string) => read(what, () => match.link(`/proc/${pid}/${name}`)) === true;
  if (link('cwd', 'cwd')) how.push('cwd');
  if (link('root', 'root')) how.push('root');
  for (const fd of read('fds', () => fs.readdirSync(`/proc/${pid}/fd`)) ?? []) if (link(`fd ${fd}`, `fd/${fd}`)) how.push(`fd ${fd}`);
  const maps = read('maps', () => fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
  if (maps !== undefined && match.maps(maps)) how.push('map');
  return how.length > 0 ? { pid, command: command(pid), how } : undefined;
}

const pids = (self: number): number[] => fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => pid !== self);

/** Every process (but this one) holding something under any of dirs, by pid. */
export function findHolders(dirs: readonly string[], self = process.pid): Holder[] {
  const out: Holder[] = [];
  for (const pid of pids(self)) {
    const h = holderOf(pid, underDirs(dirs));
    if (h) out.push(h);
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** This process's mount namespace (`mnt:[4026531841]`), or undefined where /proc does not show it. */
function ownNamespace(): string | undefined {
  const link = '/proc/self/ns/mnt';
  try {
    return fs.readlinkSync(link);
  } catch (err) {
    // Not shown (an old kernel, a restricted /proc): every namespace then counts as another, read in full.
    if (NOT_HELD.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw ioError('cannot read', link, err);
  }
}

/**
 * What a mount namespace makes of the device: mounted there as an overlay on this upper (its mountpoint),
 * mounted as something else (the device number was reused: nothing of that namespace is ours), or not
 * mounted (a file on the device is held through a detached mount).
 */
type NsVerdict = { readonly mounted: string } | 'other' | 'none';

function nsVerdict(pid: number, dev: string, upper: FileId): NsVerdict {
  const entries = readMountinfo(`/proc/${pid}/mountinfo`).filter((e) => e.dev === dev);
  if (entries.length === 0) return 'none';
  // The namespace's paths resolve below its root, which /proc/PID/root reaches.
  const ours = entries.find((e) => e.fstype === 'overlay' && sameId(layerId(`/proc/${pid}/root${e.superOptions.get('upperdir') ?? ''}`), upper));
  return ours ? { mounted: ours.mountpoint } : 'other';
}

/**
 * Every process (but this one) that can still reach the overlay with device `dev` on this upper once it
 * is gone from this namespace's mount table: files on it held open, as cwd or root, or mapped, through a
 * detached mount; or the overlay still mounted in the process's own mount namespace (a private copy).
 * Namespaces where the device is mounted as something else reused the number: their processes are not it.
 */
export function findDeviceHolders(dev: string, upper: string, self = process.pid): Holder[] {
  const upperId = fileId(upper);
  if (upperId === undefined) return [];
  const ownNs = ownNamespace();
  const verdicts = new Map<string, NsVerdict>();
  const reported = new Set<string>();
  const out: Holder[] = [];
  for (const pid of pids(self)) {
    const how: string[] = [];
    let verdict: NsVerdict = 'none';
    try {
      const ns = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
      // This process's own namespace: the caller found the device absent from its mount table.
      verdict = verdicts.get(ns) ?? (ns === ownNs ? 'none' : nsVerdict(pid, dev, upperId));
      verdicts.set(ns, verdict);
      if (typeof verdict === 'object' && !reported.has(ns)) {
        reported.add(ns);
        how.push(`mounted on ${verdict.mounted} in its mount namespace`);
      }
    } catch (err) {
      // readMountinfo wraps the errno (ENOENT: the process exited meanwhile) with the file's name.
      const errno = err instanceof StateOverlayError ? (err.cause as NodeJS.ErrnoException | undefined)?.code : (err as NodeJS.ErrnoException).code;
      const code = errno ?? (err instanceof StateOverlayError ? err.code : String(err));
      if (!NOT_HELD.has(code)) how.push(`mount namespace unreadable (${code})`);
    }
    if (verdict === 'other') continue;
    const h = holderOf(pid, onDevice(dev, upper), how);
    if (h) out.push(h);
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** `pid 1234 (sleep 600): cwd, fd 3` lines for an error message. */
export function describeHolders(holders: readonly Holder[]): string {
  return holders.map((h) => `pid ${h.pid} (${h.command}): ${h.how.join(', ')}`).join('; ');
}
