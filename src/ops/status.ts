// Gathers the Status of one overlay from the mount table, state.json, the upper and the backups dir (read-only).
import fs from 'node:fs';
import { StateOverlayError, errorChain, ioError } from '../errors.js';
import { setNames } from '../backups/sets.js';
import type { Overlay } from '../overlay/overlay.js';
import { currentGeneration } from '../observe/generation.js';
import { liveBaseDir } from '../observe/live-base.js';
import { UPPER_KINDS, displayPath, type UpperKind } from '../model/entry.js';
import { mountsAt, readMountinfo, type MountEntry } from '../mount/mountinfo.js';
import { detachedHolders } from '../mount/detached.js';
import { mountStatus } from '../mount/overlay.js';
import type { Layout } from '../paths/layout.js';
import { readState, stateManifestFile } from '../state/state-file.js';
import { liveTypeOf, withUpper } from '../observe/upper.js';
import { DirHandles } from '../tree/handles.js';
import { knownOverlays } from '../overlay/list.js';
import { baseSubmounts } from '../observe/submounts.js';
import { STATUS_API_VERSION, type OverlayStatus, type PendingWork, type Status, type StatusFailure } from './status-model.js';
import { readClasses } from '../manifest/store.js';

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError('lstat', p, err);
  }
}

/** Counts upper entries by kind against the live base (the private bind while mounted: the base is hidden then). */
function upperSummary(upper: string, baseDir: string | null): OverlayStatus['upper'] {
  const zero = () => Object.fromEntries(UPPER_KINDS.map((k) => [k, 0])) as Record<UpperKind, number>;
  const counts = zero();
  const bytesByKind = zero();
  if (!exists(upper)) return { exists: false, counts, bytes: 0, bytesByKind, unreadable: 0 };
  let bytes = 0;
  let unreadable = 0;
  const base = baseDir === null ? null : new DirHandles(baseDir);
  const baseType = liveTypeOf(base);
  try {
    for (const e of withUpper(upper, { onError: () => void unreadable++ }, (u) => u.classify(baseType))) {
      counts[e.kind]++;
      if (e.type === 'file') {
        bytes += e.size;
        bytesByKind[e.kind] += e.size;
      }
    }
  } finally {
    base?.close();
  }
  return { exists: true, counts, bytes, bytesByKind, unreadable };
}

async function generation(ov: Overlay, baseDir: string | Error): Promise<{ current: string | null; source: string | null; error: string | null }> {
  if (baseDir instanceof Error) return { current: null, source: null, error: baseDir.message };
  try {
    const g = await currentGeneration(ov, { baseDir });
    return { current: g.generation, source: g.source, error: null };
  } catch (err) {
    return { current: null, source: null, error: (err as Error).message };
  }
}

/** The detached overlay still in use, as status shows it; a record that cannot be read is shown as such by run, not here. */
function detachedInUse(layout: Layout, entries: readonly MountEntry[]): OverlayStatus['mount']['detached'] {
  let used: ReturnType<typeof detachedHolders>;
  try {
    used = detachedHolders(layout, entries);
  } catch {
    // A damaged mount record: run and mount report it with what to do; status shows the rest.
    return null;
  }
  if (used === undefined) return null;
  return { mountpoint: used.record.mountpoint, holders: used.holders.map((h) => ({ pid: h.pid, command: h.command, how: [...h.how] })) };
}

export async function collectStatus(ov: Overlay, entries: readonly MountEntry[] = readMountinfo()): Promise<OverlayStatus> {
  const { layout, config } = ov;
  const mount = mountStatus(ov, entries);
  const baseBind = mountsAt(entries, layout.baseBind).length > 0;
  // While mounted over its own lower the base is only reachable through the bind.
  let baseDir: string | Error;
  try {
    baseDir = liveBaseDir(ov, entries);
  } catch (err) {
    baseDir = err as Error;
  }
  const state = readState(layout);
  const manifest = stateManifestFile(layout, state);
  const gen = await generation(ov, baseDir);
  // Without a readable base every upper entry counts as state: nothing is known to lie below it.
  const upper = upperSummary(layout.upper, baseDir instanceof Error ? null : baseDir);
  const pending: PendingWork[] = [];
  if (exists(layout.journal)) pending.push('journal');
  if (config.reconcile !== 'none' && gen.current !== null && state?.generation !== gen.current && upper.exists) pending.push('reconcile');
  if (config.reconcile !== 'none' && state?.generation && (manifest === null || !exists(manifest))) pending.push('manifest');
  if (upper.counts.foreign > 0) pending.push('foreign-entries');
  if (config.paths.configFrom !== 'none' && manifest !== null && exists(manifest) && readClasses(manifest).dbs === null) pending.push('classes');
  return {
    name: ov.name,
    mountpoint: layout.mountpoint,
    target: layout.target,
    base: ov.base,
    mode: config.mode,
    reconcile: config.reconcile,
    configFiles: [...config.sources],
    mount: {
      state: mount.state,
      baseBind,
      submounts: baseSubmounts(ov, entries).map((m) => `${ov.base.replace(/\/+$/, '')}/${displayPath(m)}`),
      detached: mount.state === 'unmounted' ? detachedInUse(layout, entries) : null,
      upperdir: layout.upper,
      workdir: layout.work,
    },
    generation: { recorded: state?.generation ?? null, ...gen, manifest: manifest !== null && exists(manifest) ? manifest : null },
    upper,
    lastReconcile: state?.lastReconcile ?? null,
    // Set names only: status must not fail on a set whose index is damaged (`backups` reports that).
    backups: { sets: setNames(layout), keep: config.backups.keep },
    pending,
  };
}

/**
 * The Status of one overlay, or of every overlay known under root (NAME omitted): then one whose
 * configuration or state cannot be read is listed as failed, and the others are shown all the same.
 */
export async function statusOf(root: string, name: string | undefined, resolve: (name: string) => Overlay): Promise<Status> {
  const names = name === undefined ? knownOverlays(root) : [name];
  const mounts = readMountinfo();
  const overlays: OverlayStatus[] = [];
  const failed: StatusFailure[] = [];
  for (const n of names) {
    try {
      overlays.push(await collectStatus(resolve(n), mounts));
    } catch (err) {
      if (name !== undefined || !(err instanceof StateOverlayError) || err.code === 'internal') throw err;
      failed.push({ name: n, code: err.code, error: errorChain(err).join(': ') });
    }
  }
  return { apiVersion: STATUS_API_VERSION, overlays, failed };
}
