// Parses /proc/PID/mountinfo (proc(5)) into typed entries; lookups match whole fields, never substrings.
import fs from 'node:fs';
import { ioError, StateOverlayError } from '../errors.js';

export interface MountEntry {
  readonly id: number;
  readonly parentId: number;
  /** `major:minor` of the filesystem. */
  readonly dev: string;
  /** Root of the mount within its filesystem (a bind shows the bound directory here). */
  readonly root: string;
  readonly mountpoint: string;
  /** Per-mount options (ro, nosuid, ...). */
  readonly mountOptions: readonly string[];
  /** Optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  readonly optional: readonly string[];
  readonly fstype: string;
  readonly source: string;
  /** Per-superblock options; flags without a value map to ''. */
  readonly superOptions: ReadonlyMap<string, string>;
}

/** Decodes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash, `\054` comma). */
export function unescapeOctal(field: string): string {
  // Most fields are plain ASCII with no escape: they are their own decoding (and mountinfo is parsed
  // several times on every run, with hundreds of mounts on some hosts).
  if (!/[^\x20-\x5b\x5d-\x7e]/.test(field)) return field;
  const bin = field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  // Text read as latin1 holds raw bytes: reassemble them and read as UTF-8, as the program's other paths are.
  // Text that already holds decoded characters (above U+00FF) is left as it is.
  return /[^\x00-\xff]/.test(bin) ? bin : Buffer.from(bin, 'latin1').toString('utf8');
}

function splitOptions(field: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const opt of field.split(',')) {
    if (opt === '') continue;
    const eq = opt.indexOf('=');
    if (eq < 0) map.set(unescapeOctal(opt), '');
    else map.set(unescapeOctal(opt.slice(0, eq)), unescapeOctal(opt.slice(eq + 1)));
  }
  return map;
}

function parseLine(line: string, lineNo: number, source: string): MountEntry {
  const fields = line.split(' ');
  const sep = fields.indexOf('-', 6);
  if (fields.length < 10 || sep < 0 || fields.length < sep + 4) {
    throw new StateOverlayError('corrupt', `${source}:${lineNo}: not a mountinfo line: ${JSON.stringify(line)}`, { path: source });
  }
  const id = Number(fields[0]);
  const parentId = Number(fields[1]);
  if (!Number.isInteger(id) || !Number.isInteger(parentId)) {
    throw new StateOverlayError('corrupt', `${source}:${lineNo}: bad mount id in ${JSON.stringify(line)}`, { path: source });
  }
  return Object.freeze({
    id,
    parentId,
    dev: fields[2]!,
    root: unescapeOctal(fields[3]!),
    mountpoint: unescapeOctal(fields[4]!),
    mountOptions: Object.freeze(fields[5]!.split(',')),
    optional: Object.freeze(fields.slice(6, sep)),
    fstype: unescapeOctal(fields[sep + 1]!),
    source: unescapeOctal(fields[sep + 2]!),
    superOptions: splitOptions(fields.slice(sep + 3).join(' ')),
  });
}

/** Parses mountinfo text (one mount per line, in mount order). */
export function parseMountinfo(text: string, source = 'mountinfo'): MountEntry[] {
  const out: MountEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line !== '') out.push(parseLine(line, i + 1, source));
  });
  return out;
}

export const MOUNTINFO = '/proc/self/mountinfo';

/** Reads and parses this process's mount table. Read as latin1 so that every byte of a path survives until decoded. */
export function readMountinfo(file = MOUNTINFO): MountEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (err) {
    throw ioError('cannot read', file, err);
  }
  return parseMountinfo(text, file);
}

/** The mount on top at exactly this mountpoint (the last one mounted there), if any. */
export function topMountAt(entries: readonly MountEntry[], mountpoint: string): MountEntry | undefined {
  let hit: MountEntry | undefined;
  for (const e of entries) if (e.mountpoint === mountpoint) hit = e;
  return hit;
}

/** Every mount at exactly this mountpoint, bottom first. */
export function mountsAt(entries: readonly MountEntry[], mountpoint: string): MountEntry[] {
  return entries.filter((e) => e.mountpoint === mountpoint);
}

/** Mounts strictly below a directory (submounts that would make it busy). */
export function mountsUnder(entries: readonly MountEntry[], dir: string): MountEntry[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return entries.filter((e) => e.mountpoint.startsWith(prefix));
}

/** Propagation of a mount as mount(8) names it. */
export function propagation(e: MountEntry): 'shared' | 'slave' | 'private' | 'unbindable' {
  if (e.optional.includes('unbindable')) return 'unbindable';
  if (e.optional.some((o) => o.startsWith('shared:'))) return 'shared';
  if (e.optional.some((o) => o.startsWith('master:'))) return 'slave';
  return 'private';
}
