// A progress bar for long work on a terminal (stderr); nothing otherwise, and cli-progress is loaded only for a bar.
import type { Context } from './context.js';

export async function progressBar(ctx: Context): Promise<{ onProgress?: (done: number, total?: number) => void; stop(): void }> {
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

