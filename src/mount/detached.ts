// An overlay gone from the mount table may still be alive: a lazy unmount detaches it while processes
// hold files on it, and a private copy in another mount namespace survives our unmount. Until nothing
// can reach it, its writes still land in the upper: reconcile and mount must wait.
//
// The overlay's device (its anonymous st_dev) is recorded at mount, in the run dir (gone at reboot, as
// every overlay is). A device number is unique while its filesystem lives and can be reused after, so
// the record is dropped as soon as a scan finds nothing on the device, or finds the number mounted as
// something else here; namespaces that mount the number as something else are skipped the same way.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { writeFileAtomic } from '../state/atomic.js';
import { describeHolders, findDeviceHolders, type Holder } from './holders.js';
import { mountsOfUpper } from './in-use.js';
import type { MountEntry } from './mountinfo.js';

interface MountRecord {
  /** `major:minor` of the overlay, as mountinfo shows it. */
  readonly dev: string;
  readonly mountpoint: string;
}

function readRecord(file: string): MountRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot read', file, err);
  }
  let raw: Partial<MountRecord> | undefined;
  try {
    raw = JSON.parse(text) as Partial<MountRecord>;
  } catch {
    raw = undefined; // reported below, with what to do
  }
  if (typeof raw?.dev !== 'string' || !/^\d+:\d+$/.test(raw.dev) || typeof raw.mountpoint !== 'string') {
    throw new StateOverlayError('corrupt', `${file}: not a mount record: if no process still uses the overlay once mounted there (see lsof), remove it`, { path: file });
  }
  return { dev: raw.dev, mountpoint: raw.mountpoint };
}

/** Records the device of the overlay just mounted (the run dir exists: the base bind is in it). */
export function recordMount(layout: Layout, e: MountEntry): void {
  writeFileAtomic(layout.mountRecord, JSON.stringify({ dev: e.dev, mountpoint: e.mountpoint } satisfies MountRecord) + '\n');
}

function forget(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot remove', file, err);
  }
}

/**
 * The processes that can still reach the overlay last mounted, now that it is not mounted here; none
 * when it is mounted here (the mount table says so, and the other checks refuse that) or gone.
 */
export function detachedHolders(layout: Layout, entries: readonly MountEntry[]): { record: MountRecord; holders: Holder[] } | undefined {
  const record = readRecord(layout.mountRecord);
  if (record === undefined) return undefined;
  const here = entries.filter((e) => e.dev === record.dev);
  if (here.length > 0 && mountsOfUpper(here, layout.upper).length > 0) return undefined;
  const holders = here.length > 0 ? [] : findDeviceHolders(record.dev, layout.upper);
  if (holders.length > 0) return { record, holders };
  forget(layout.mountRecord);
  return undefined;
}

/** Refuses while the overlay last mounted can still write into the upper, naming who holds it. */
export function assertNotDetachedInUse(layout: Layout, entries: readonly MountEntry[]): void {
  const used = detachedHolders(layout, entries);
  if (used === undefined) return;
  throw new StateOverlayError(
    'busy',
    `overlay ${layout.name} was detached from ${used.record.mountpoint} but is still in use, so writes can still reach ${layout.upper}: held by ${describeHolders(used.holders)}; stop them first`,
    { path: layout.upper },
  );
}
