// The merge drivers by the names `Merge=GLOB:DRIVER` takes: each a pure function (src/merge/types.ts).
import { diversionsMerge, statoverrideMerge } from './dpkg-lines.js';
import { dpkgStatusMerge } from './dpkg-status.js';
import { PASSWD_FILES, passwdDriver, type PasswdFile } from './passwd.js';
import { textMerge } from './text.js';
import type { MergeDriver } from './types.js';

/** Picks the driver for one file: the passwd driver reads its flavour from the file's name. */
type Pick = (name: string) => MergeDriver | string;

const DRIVERS: Readonly<Record<string, Pick>> = {
  text: () => textMerge,
  passwd: (name) => ((PASSWD_FILES as readonly string[]).includes(name) ? passwdDriver(name as PasswdFile) : `the passwd driver merges only files named ${PASSWD_FILES.join(', ')}`),
  'dpkg-status': () => dpkgStatusMerge,
  'dpkg-diversions': () => diversionsMerge,
  'dpkg-statoverride': () => statoverrideMerge,
};

export const DRIVER_NAMES: readonly string[] = Object.keys(DRIVERS);

/** The driver `name` for the file whose last name component is `file`, or why it cannot merge that file. */
export function driverFor(name: string, file: string): MergeDriver | string {
  const pick = DRIVERS[name];
  return pick === undefined ? `no merge driver named ${name}` : pick(file);
}
