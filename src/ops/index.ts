// `index`: builds or refreshes the manifest of the current base, into the state dir (for the next
// reconcile), or with --ship into the image.
import fs from 'node:fs';
import type { LogEvent } from '../log/events.js';
import { buildManifest, type BuildResult } from '../manifest/build.js';
import { currentGeneration, manifestGeneration, type Generation } from '../observe/generation.js';
import { liveBaseDir } from '../observe/live-base.js';
import { checkOverlayDirs } from '../mount/preflight.js';
import { manifestPath } from '../manifest/store.js';
import { ensureStateSubdir } from '../state/state-dir.js';
import { readState, stateManifestFile } from '../state/state-file.js';
import type { Overlay } from '../overlay/overlay.js';
import type { Log } from '../log/logger.js';
import { baseSkip } from '../observe/submounts.js';
import { classesReader, keepManifest } from './record.js';

export interface IndexReport extends BuildResult {
  readonly name: string;
  readonly base: string;
  readonly manifest: string;
  readonly generation: string;
  readonly source: string;
  readonly ms: number;
}

export interface IndexOptions {
  /** Write the manifest into the image (`--ship`) instead of the state dir. */
  readonly ship: boolean;
  readonly onProgress?: (done: number, total?: number) => void;
}

export async function indexOverlay(ov: Overlay, log: Log, opts: IndexOptions): Promise<IndexReport> {
  const { ship } = opts;
  checkOverlayDirs(ov, { mountpoint: false });
  const base = ship ? ov.base : liveBaseDir(ov);
  const started = Date.now();
  let out: string;
  let previous: string | undefined;
  let gen: Generation | undefined;
  if (ship) {
    out = ov.layout.shippedManifest;
    previous = fs.existsSync(out) ? out : undefined;
  } else {
    gen = await currentGeneration(ov, { baseDir: base });
    ensureStateSubdir(ov.layout, ov.layout.manifestsDir);
    out = manifestPath(ov.layout, gen.generation);
  }
  log.info({ event: 'index.start', root: base } satisfies LogEvent);
  const skip = baseSkip(ov);
  const classes = classesReader(ov);
  const r = gen === undefined
    ? await buildManifest(base, out, { skip, classes: await classes(), ...(previous ? { previous } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) })
    : await keepManifest(gen, out, base, [out, stateManifestFile(ov.layout, readState(ov.layout))], opts.onProgress, skip, classes);
  if (ship) {
    // The base content merges will need on the host, beside the manifest (none without a merge driver).
    const { shipPristine } = await import('./pristine.js');
    const p = shipPristine(ov, out, base);
    if (p.stored > 0) log.info({ event: 'run.pristine', name: ov.name, stored: p.stored, bytes: p.bytes });
  }
  const ms = Date.now() - started;
  log.info({ event: 'index.done', entries: r.entries, hashedBytes: r.hashedBytes, reusedDigests: r.reusedDigests, ms } satisfies LogEvent);
  const g = gen ?? { generation: manifestGeneration(out), source: 'manifest' };
  return { name: ov.name, base, manifest: out, generation: g.generation, source: g.source, ms, ...r };
}

