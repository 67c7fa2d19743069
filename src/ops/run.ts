// `run`: the service's start (and reload): reconcile if the base generation changed, mount, report ready,
// then keep the manifest of the new generation for the next update. One lock per overlay for all of it.
import type { Overlay } from '../overlay/overlay.js';
import type { Log } from '../log/logger.js';
import { currentGeneration, type Generation, type KeptManifest } from '../observe/generation.js';
import { assertBaseTrusted } from '../observe/base-check.js';
import { liveBaseDir } from '../observe/live-base.js';
import { readMountinfo } from '../mount/mountinfo.js';
import { assertMountable, mountOverlay, mountStatus, foreignError } from '../mount/overlay.js';
import { manifestPath } from '../manifest/store.js';
import { withSession, type OverlaySession } from '../txn/session.js';
import type { Notifier } from '../systemd/notify.js';
import { migrateOstree } from './migrate.js';
import { isRecorded, recordManifest } from './record.js';
import { unmountUnlessBusy } from './reload.js';

export interface RunOptions {
  readonly notifier: Notifier;
  /** Mounted already and the base changed: unmount → reconcile → mount, unless the mount is busy. */
  readonly reload?: boolean;
  /** Reconcile and mount even a base that looks absent (an empty base where a manifest lists entries). */
  readonly force?: boolean;
  /** How long to wait for the overlay's lock. */
  readonly lockWaitMs?: number;
  /** For tests: a stand-in for /proc/filesystems. */
  readonly procFilesystems?: string;
}

export interface RunResult {
  readonly name: string;
  readonly generation: string;
  readonly reconciled: boolean;
  /** Mounted when run returns, as `mount --json` says it. */
  readonly mounted: true;
  /** True when this run mounted the overlay (false: it was mounted already). */
  readonly changed: boolean;
  /** True when the change waits: the mount was busy, or this was not a reload. */
  readonly deferred: boolean;
  /** Manifest of the recorded generation, or null (Reconcile=none keeps none). */
  readonly manifest: string | null;
}

async function reconcileIfNeeded(s: OverlaySession, gen: Generation, n: Notifier): Promise<boolean> {
  const { overlay: ov, log } = s;
  const recorded = s.state?.generation ?? null;
  const interrupted = s.journal !== null;
  log.info({ event: 'generation', name: ov.name, recorded, current: gen.generation });
  if (!interrupted && (ov.config.reconcile === 'none' || recorded === gen.generation)) return false;
  await n.status(interrupted ? 'finishing an interrupted reconcile' : `reconciling: base changed to ${gen.generation}`);
  // Loaded only when there is work: an unchanged base never pays for the planner and its dependencies.
  const { reconcileIn } = await import('./reconcile.js');
  await reconcileIn(s, { current: gen, baseTrusted: true, onProgress: (done, total) => void n.status(`reconciling: ${done}/${total} actions`) });
  return true;
}

/** The recorded generation with its kept manifest, if any: an unchanged shipped manifest is then compared, not hashed. */
function keptManifest(s: OverlaySession): { kept?: KeptManifest } {
  const file = s.manifestFile;
  return s.state?.generation && file !== null ? { kept: { generation: s.state.generation, file } } : {};
}

async function runIn(s: OverlaySession, opts: RunOptions): Promise<RunResult> {
  const { overlay: ov, log, layout } = s;
  const n = opts.notifier;
  await migrateOstree(s);
  const mounts = readMountinfo();
  const status = mountStatus(ov, mounts);
  if (status.state === 'foreign') throw foreignError(ov, status.entry);
  if (status.state === 'unmounted') assertMountable(ov, mounts);
  let wasMounted = status.state === 'mounted';
  // While mounted over its own lower, the base is reachable only through the private bind.
  let gen = await currentGeneration(ov, { baseDir: liveBaseDir(ov, mounts), ...keptManifest(s) });
  let deferred = false;
  if (wasMounted && ov.config.reconcile !== 'none' && s.state?.generation !== gen.generation) {
    if (!opts.reload) {
      deferred = true;
      log.info({ event: 'watch.deferred', name: ov.name, reason: `base changed to ${gen.generation} while mounted: reconciled at the next start or reload` });
    } else {
      await n.status('base changed: unmounting to reconcile');
      const busy = await unmountUnlessBusy(ov, log);
      if (busy === null) {
        log.info({ event: 'watch.reload', name: ov.name, from: s.state?.generation ?? null, to: gen.generation });
        wasMounted = false;
        gen = await currentGeneration(ov);
      } else {
        deferred = true;
        log.warn({ event: 'watch.deferred', name: ov.name, reason: busy.message });
      }
    }
  }
  let reconciled = false;
  if (!wasMounted) {
    // Before anything changes or mounts, whether the base reconciles or not (an interrupted journal of the same generation, say).
    if (ov.config.reconcile !== 'none') {
      assertBaseTrusted({ base: ov.base, recorded: s.manifestFile, shipped: gen.shipped, entries: gen.entries }, opts.force === true, (message) => log.warn({ event: 'warning', message, path: ov.base }));
    }
    reconciled = await reconcileIfNeeded(s, gen, n);
    await mountOverlay(ov, log, opts.procFilesystems === undefined ? {} : { procFilesystems: opts.procFilesystems });
  }
  log.info({ event: 'run.ready', name: ov.name, generation: gen.generation, reconciled, changed: !wasMounted });
  await n.ready(deferred ? `mounted; base change waits (busy or not a reload)` : `mounted ${layout.mountpoint}`);
  let manifest: string | null = null;
  if (!deferred && ov.config.reconcile !== 'none') {
    // An unchanged generation already has its manifest: nothing to tell systemd, nothing to write.
    if (!isRecorded(s, gen)) {
      await n.status('indexing the base for the next update');
      await recordManifest(s, gen, {
        baseDir: layout.baseBind,
        onProgress: (done, total) => void n.status(`indexing the base for the next update: ${done}${total ? `/${total}` : ''} entries`),
      });
      await n.status(`mounted ${layout.mountpoint}; manifest of ${gen.generation} recorded`);
      await n.flush();
    }
    manifest = manifestPath(layout, gen.generation);
  }
  return { name: ov.name, generation: gen.generation, reconciled, mounted: true, changed: !wasMounted, deferred, manifest };
}

/** Runs the start/reload sequence for one overlay in one session: its lock taken once for all of it. */
export async function runOverlay(ov: Overlay, log: Log, opts: RunOptions): Promise<RunResult> {
  return withSession(ov, log, { lockWaitMs: opts.lockWaitMs ?? 60_000 }, (s) => runIn(s, opts));
}
