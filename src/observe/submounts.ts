// Mounts below the base (a data volume at /opt/data). The private base bind is not recursive, so the
// overlay's lower never shows them: they are not part of the base, and every reader of the base (the
// generation, the manifest, the observation) leaves them out, through the raw base and the bind alike.
// They are found in the mount table, not by st_dev: a btrfs subvolume has an st_dev of its own and is
// part of the base (the bind shows it).
import fs from 'node:fs';
import { ioError } from '../errors.js';
import { isUnder, parentOf, relFromText, type RelPath } from '../model/entry.js';
import { mountsUnder, readMountinfo, type MountEntry } from '../mount/mountinfo.js';
import type { Overlay } from '../overlay/overlay.js';
import { SHIP_DIR } from '../paths/layout.js';

/** The mountpoints below the base, relative to it (none when the base does not exist). */
export function baseSubmounts(ov: Overlay, entries: readonly MountEntry[] = readMountinfo()): RelPath[] {
  let real: string;
  try {
    real = fs.realpathSync(ov.base);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('cannot resolve base', ov.base, err);
  }
  const found = mountsUnder(entries, real).map((e) => relFromText(e.mountpoint.slice(real === '/' ? 1 : real.length + 1)));
  return [...new Set(found)].sort();
}

/**
 * What a walk of the base leaves out: the entries for which it holds (and their subtrees). `watch`, when
 * given, lists every directory whose entries it can hold for ('' for the root), so that a walk in C asks
 * it there only; a walk that stops at the first entry it holds for (never enters it) needs no more.
 */
export type BaseSkip = ((p: RelPath) => boolean) & { readonly watch?: readonly RelPath[] };

const withWatch = (f: (p: RelPath) => boolean, watch: readonly RelPath[]): BaseSkip => Object.assign(f, { watch });

/** The test "at or below a submount" for the walks and lookups of the base. */
export function inSubmount(submounts: readonly RelPath[]): BaseSkip {
  if (submounts.length === 0) return withWatch(() => false, []);
  const set = new Set(submounts);
  return withWatch((p) => set.has(p) || submounts.some((m) => isUnder(p, m)), [...new Set(submounts.map(parentOf))]);
}

/** A shipped manifest, a writer's temp of one, or a shipped store of pristine copies, by name. */
const SHIPPED = /^[^/]+\.(?:manifest(?:\.tmp-\d+)?|pristine(?:\/.*)?)$/s;

/**
 * What every reader of the base leaves out: its submounts, and, when the base holds the directory manifests
 * are shipped in (an overlay of /usr), the tool's own shipped files there. `index --ship` writes them into
 * the image after indexing it: no manifest can describe itself, nor the others shipped after it.
 */
export function baseSkip(ov: Overlay, entries?: readonly MountEntry[]): BaseSkip {
  const sub = inSubmount(baseSubmounts(ov, entries));
  const mount = ov.config.path.replace(/\/+$/, '');
  if (!SHIP_DIR.startsWith(`${mount}/`)) return sub;
  const shipDir = relFromText(SHIP_DIR.slice(mount.length + 1));
  const dir = `${shipDir}/`;
  // A shipped store's files lie below its directory, which is left out first.
  return withWatch((p) => sub(p) || (p.startsWith(dir) && SHIPPED.test(p.slice(dir.length))), [...(sub.watch ?? []), shipDir]);
}
