// Boots the guest with QEMU: KVM when a short probe shows it runs, TCG otherwise; the serial console
// is streamed to a file and watched for markers; a power cut is a SIGKILL of QEMU.
import fs from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { retryDecision } from './retry.js';
import { shareArgs, startShare, type RunningShare, type Share } from './share.js';

export type Accel = 'kvm' | 'tcg';

export interface Drive {
  /** Raw image file. */
  readonly file: string;
  /** virtio serial: the guest sees /dev/disk/by-id/virtio-SERIAL. */
  readonly serial: string;
  readonly readonly?: boolean;
}

export interface BootOptions {
  readonly kernel: string;
  readonly initrd: string;
  readonly append: string;
  readonly drives: readonly Drive[];
  /** Serial console output goes here. */
  readonly console: string;
  readonly timeoutMs: number;
  /** Kill QEMU (a power cut) as soon as the console shows this text. */
  readonly cutOn?: string;
  readonly accel: Accel;
  readonly memoryMiB?: number;
  /** Host directories shared over virtio-fs, each with a virtiofsd of its own for this boot. */
  readonly shares?: readonly Share[];
}

export type Outcome = 'exited' | 'timeout' | 'cut';

export interface BootResult {
  readonly outcome: Outcome;
  readonly exitCode: number | undefined;
  /** The signal that ended QEMU (SIGABRT on an assertion, SIGKILL on a cut or timeout). */
  readonly signal: string | undefined;
  readonly ms: number;
}

function qemuArgs(o: BootOptions, shares: readonly RunningShare[]): string[] {
  const memoryMiB = o.memoryMiB ?? 1536;
  const accel = o.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', process.env.VM_CPU ?? 'max'];
  const drives = o.drives.flatMap((d, i) => [
    '-drive', `file=${d.file},format=raw,if=none,id=d${i},cache=writeback${d.readonly ? ',readonly=on' : ''}`,
    '-device', `virtio-blk-pci,drive=d${i},serial=${d.serial}`,
  ]);
  return [
    '-machine', 'q35', ...accel, '-smp', '2', '-m', String(memoryMiB),
    '-nodefaults', '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
    '-kernel', o.kernel, '-initrd', o.initrd, '-append', o.append,
    ...drives, ...shareArgs(shares, memoryMiB),
  ];
}

/** Boots once and returns when QEMU exits (the guest powered off), the cut marker shows, or time runs out. */
export async function boot(o: BootOptions): Promise<BootResult> {
  const start = Date.now();
  const shares: RunningShare[] = [];
  try {
    for (const s of o.shares ?? []) shares.push(await startShare(s));
    return await bootWith(o, shares, start);
  } finally {
    for (const s of shares) await s.stop();
  }
}

async function bootWith(o: BootOptions, shares: readonly RunningShare[], start: number): Promise<BootResult> {
  const out = fs.createWriteStream(o.console);
  const child: ResultPromise = execa('qemu-system-x86_64', qemuArgs(o, shares), { reject: false, stdin: 'ignore', stderr: 'pipe', buffer: false });
  let outcome: Outcome = 'exited';
  let seen = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out.write(chunk);
    if (o.cutOn === undefined || outcome !== 'exited') return;
    // keep a tail long enough to hold a marker split across chunks
    seen = (seen + chunk.toString('latin1')).slice(-4096);
    if (seen.includes(o.cutOn)) {
      outcome = 'cut';
      child.kill('SIGKILL');
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => out.write(chunk));
  const timer = setTimeout(() => {
    outcome = 'timeout';
    child.kill('SIGKILL');
  }, o.timeoutMs);
  const r = await child;
  clearTimeout(timer);
  await new Promise<void>((resolve) => out.end(resolve));
  return { outcome, exitCode: r.exitCode, signal: r.signal, ms: Date.now() - start };
}

export interface RetriedBootResult extends BootResult {
  /** Set when the first boot died in QEMU before the guest started and this result is the retry's. */
  readonly retried?: string;
}

/** Boots; a boot QEMU aborted before the guest printed anything is retried once (see retry.ts). */
export async function bootRetrying(o: BootOptions): Promise<RetriedBootResult> {
  const first = await boot(o);
  const decision = retryDecision(fs.readFileSync(o.console, 'latin1'), first);
  if (!decision.retry) return first;
  fs.renameSync(o.console, `${o.console}.aborted`);
  return { ...(await boot(o)), retried: decision.reason };
}

let probed: Accel | undefined;

/**
 * KVM when `/dev/kvm` exists and a guest kernel under it prints its banner within a few seconds
 * (on some machines KVM hangs); TCG otherwise. `VM_ACCEL=kvm|tcg` overrides the probe.
 */
export async function pickAccel(kernel: string, initrd: string, consoleFile: string): Promise<Accel> {
  const forced = process.env.VM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  if (probed !== undefined) return probed;
  probed = 'tcg';
  if (fs.existsSync('/dev/kvm')) {
    const r = await boot({
      kernel, initrd, append: 'console=ttyS0 panic=-1 rdinit=/nonexistent', drives: [], console: consoleFile,
      timeoutMs: 6_000, cutOn: 'Linux version', accel: 'kvm', memoryMiB: 256,
    });
    if (r.outcome === 'cut') probed = 'kvm';
  }
  return probed;
}
