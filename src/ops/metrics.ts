// `metrics`: the Status of every overlay (or one) plus what a fleet view needs beyond it: the bytes
// each overlay's backup sets hold.
import fs from 'node:fs';
import { ioError } from '../errors.js';
import type { Overlay } from '../overlay/overlay.js';
import { walk } from '../tree/walk.js';
import type { Status } from './status-model.js';
import { statusOf } from './status.js';

export interface Metrics {
  readonly status: Status;
  /** Bytes of the regular files in each overlay's backups, by NAME (overlays of status.overlays). */
  readonly backupBytes: ReadonlyMap<string, number>;
  /** Entries under backups that could not be read, by NAME. */
  readonly backupUnreadable: ReadonlyMap<string, number>;
}

function backupUsage(dir: string): { bytes: number; unreadable: number } {
  try {
    fs.lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { bytes: 0, unreadable: 0 };
    throw ioError('lstat', dir, err);
  }
  let bytes = 0;
  let unreadable = 0;
  for (const e of walk(dir, { onError: () => void unreadable++ })) if (e.type === 'file') bytes += e.st.size;
  return { bytes, unreadable };
}

export async function metricsOf(root: string, name: string | undefined, resolve: (name: string) => Overlay): Promise<Metrics> {
  const status = await statusOf(root, name, resolve);
  const backupBytes = new Map<string, number>();
  const backupUnreadable = new Map<string, number>();
  for (const o of status.overlays) {
    const u = backupUsage(resolve(o.name).layout.backupsDir);
    backupBytes.set(o.name, u.bytes);
    backupUnreadable.set(o.name, u.unreadable);
  }
  return { status, backupBytes, backupUnreadable };
}
