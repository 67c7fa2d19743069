// Progress of long work on a terminal (stderr); nothing otherwise, and cli-progress is loaded only to show it.
// With a total (a previous manifest's count) it is a bar; without one, the count so far and its rate: a bar
// whose total is the running count would always look full.
import type { Context } from './context.js';

const BAR = 'indexing [{bar}] {value}/{total} entries';
const COUNT = 'indexing {value} entries, {rate} entries/s';

export async function progressBar(ctx: Context): Promise<{ onProgress?: (done: number, total?: number) => void; stop(): void }> {
  if (!process.stderr.isTTY || ctx.json || ctx.log.level === 'warn' || ctx.log.level === 'error' || ctx.log.level === 'silent') return { stop() {} };
  const { default: cliProgress } = await import('cli-progress');
  let bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
  const started = Date.now();
  return {
    onProgress(done, total) {
      const rate = { rate: Math.round(done / Math.max((Date.now() - started) / 1000, 0.001)) };
      if (!bar) {
        const format = total === undefined ? COUNT : BAR;
        bar = new cliProgress.SingleBar({ stream: process.stderr, format, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(Math.max(total ?? 0, done), done, rate);
      } else if (total !== undefined) bar.setTotal(Math.max(total, done));
      bar.update(done, rate);
    },
    stop: () => void bar?.stop(),
  };
}
