// `run --watch`: notices a base that changes while mounted and reloads (unmount → reconcile → mount) when
// the mount is not busy; a busy mount logs watch.deferred and the change waits for the next start.
import chokidar, { type FSWatcher } from 'chokidar';
import type { Overlay } from '../overlay/overlay.js';
import type { Log } from '../log/logger.js';
import { runOverlay, type RunOptions, type RunResult } from './run.js';

export interface WatchOptions extends RunOptions {
  /** Quiet time after the last change before reloading (an image update writes many files). */
  readonly settleMs?: number;
  /** Called after each reload attempt (tests, progress). */
  readonly onReload?: (r: RunResult) => void;
  readonly onError?: (err: unknown) => void;
}

export interface Watch {
  /** Stops watching; resolves once no reload is running. */
  close(): Promise<void>;
}

/** Watches the base (through the private bind: the overlay hides it otherwise). */
export async function watchBase(ov: Overlay, log: Log, opts: WatchOptions): Promise<Watch> {
  const dir = ov.layout.baseBind;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const start = async () => {
    // ignoreInitial: only changes count; followSymlinks false: the base's symlinks point anywhere.
    const w = chokidar.watch(dir, { ignoreInitial: true, followSymlinks: false, persistent: true, atomic: false });
    w.on('all', (_kind, path) => {
      log.debug({ event: 'watch.change', name: ov.name, path });
      schedule();
    });
    w.on('error', (err) => opts.onError?.(err));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    watcher = w;
  };

  const reload = async () => {
    // The bind is unmounted during a reload: stop watching through it, then watch the new one.
    await watcher?.close();
    watcher = undefined;
    try {
      opts.onReload?.(await runOverlay(ov, log, { ...opts, reload: true }));
    } catch (err) {
      opts.onError?.(err);
    }
    if (!closed) await start();
  };

  function schedule(): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (running) return schedule();
      running = reload().finally(() => (running = undefined));
    }, opts.settleMs ?? 2000);
  }

  await start();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      await watcher?.close();
    },
  };
}
