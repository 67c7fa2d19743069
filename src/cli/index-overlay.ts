// What `state-overlay index` does: builds or refreshes the manifest of the current base, into the state dir
// (for the next reconcile), or with --ship into the image; a progress bar on a terminal.
import fs from 'node:fs';
import type { LogEvent } from '../log/events.js';
import { buildManifest, type BuildResult } from '../manifest/build.js';
import { currentGeneration, manifestGeneration, type Generation } from '../manifest/generation.js';
import { liveBaseDir } from '../manifest/live-base.js';
import { copyManifest } from '../manifest/copy.js';
import { manifestPath } from '../manifest/store.js';
import { ensureStateSubdir } from '../state/state-dir.js';
import { readState, stateManifestFile } from '../state/state-file.js';
import type { Context, Overlay } from './context.js';

export interface IndexReport extends BuildResult {
  readonly name: string;
  readonly base: string;
  readonly manifest: string;
  readonly generation: string;
  readonly source: string;
  readonly ms: number;
}

/** A progress bar on a terminal (stderr), nothing otherwise (cli-progress is loaded only for a bar). */
async function progress(ctx: Context): Promise<{ onProgress?: (done: number, total?: number) => void; stop(): void }> {
  if (!process.stderr.isTTY || ctx.json || ctx.log.level === 'warn' || ctx.log.level === 'error' || ctx.log.level === 'silent') return { stop() {} };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'indexing [{bar}] {value}/{total} entries', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress(done, total) {
      const t = Math.max(total ?? 0, done);
      if (!started) bar.start(t, done);
      else bar.setTotal(t);
      started = true;
      bar.update(done);
    },
    stop: () => void (started && bar.stop()),
  };
}

export async function indexOverlay(ctx: Context, ov: Overlay, ship: boolean): Promise<IndexReport> {
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
    const recorded = stateManifestFile(ov.layout, readState(ov.layout));
    previous = [out, recorded].find((f): f is string => f !== null && f !== undefined && fs.existsSync(f));
  }
  ctx.log.info({ event: 'index.start', root: base } satisfies LogEvent);
  let r: BuildResult;
  if (gen?.shipped !== undefined) {
    // The image carries this generation's manifest: keep a copy, hash nothing.
    r = { ...copyManifest(gen.shipped, out), hashedBytes: 0, reusedDigests: 0 };
  } else {
    const bar = await progress(ctx);
    try {
      r = await buildManifest(base, out, { ...(previous ? { previous } : {}), ...(bar.onProgress ? { onProgress: bar.onProgress } : {}) });
    } finally {
      bar.stop();
    }
  }
  const ms = Date.now() - started;
  ctx.log.info({ event: 'index.done', entries: r.entries, hashedBytes: r.hashedBytes, reusedDigests: r.reusedDigests, ms } satisfies LogEvent);
  const g = gen ?? { generation: manifestGeneration(out), source: 'manifest' };
  return { name: ov.name, base, manifest: out, generation: g.generation, source: g.source, ms, ...r };
}

