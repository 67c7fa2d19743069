// `backups`: the backup sets of an overlay, oldest first, with what each holds.
import { listSets, type BackupSet } from '../backups/sets.js';
import type { Overlay } from '../overlay/overlay.js';

export function backupSets(ov: Overlay): BackupSet[] {
  return listSets(ov.layout);
}
