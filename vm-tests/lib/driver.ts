// Host side of the suite: runs a scenario's phases, one boot each, on its own copies of the root and
// /var disks; passes each phase in on the io disk and reads the guest's results back from it.
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../src/exec.js';
import { ARTIFACTS, CACHE, VM_TESTS } from './cache.js';
import { baseDisk, updateTree } from './bases.js';
import { readIoDisk, uncleanExt4, writeIoDisk } from './disk.js';
import type { GuestImage } from './image.js';
import { bootRetrying, pickAccel, type Accel, type Drive } from './qemu.js';
import type { Phase, Scenario } from './scenario.js';
import { SHARE_TAG, type Share } from './share.js';
import { slotImages } from './slot-image.js';

export const DEFAULT_PHASE_TIMEOUT_MS = Number(process.env.VM_BOOT_TIMEOUT_MS ?? 600_000);

export interface PhaseReport {
  readonly phase: string;
  readonly outcome: string;
  readonly ms: number;
  /** Lines the phase printed as `note: ...` (figures measured in the guest). */
  readonly notes: readonly string[];
  /** Why the first boot was retried, when QEMU died before the guest started. */
  readonly retried?: string;
}

/** The kernel command line: the image's root (read-only, `ro`, for an image booted so, else read-write); then the phase's own words. */
const append = (image: GuestImage, phase: Phase): string => [
  image.rootArgs ?? 'root=LABEL=so-root', image.readOnlyRoot ? 'ro' : 'rw', 'console=ttyS0', 'panic=-1', 'loglevel=4',
  // boot straight to the agent: no getty on the console, no waiting for a network
  'systemd.mask=serial-getty@ttyS0.service', 'systemd.show_status=1',
  ...(phase.kernelArgs ?? []),
].join(' ');

async function sparseCopy(from: string, to: string): Promise<void> {
  await run('cp', ['--sparse=always', '--reflink=auto', from, to]);
}

function keepArtifacts(scenario: string, index: number, files: string[]): string {
  const dir = path.join(ARTIFACTS, scenario, `phase-${index + 1}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) if (fs.existsSync(f)) fs.cpSync(f, path.join(dir, path.basename(f)), { recursive: true });
  return dir;
}

function tail(file: string, lines: number): string {
  if (!fs.existsSync(file)) return '';
  return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

export class ScenarioRun {
  private readonly work: string;
  private accel: Accel | undefined;
  private slots = new Map<string, GuestImage>();
  /** How long building the scenario's own images took (0: cached, or none). */
  imageMs = 0;

  /** image: the suite's guest image, for a scenario without slots of its own. */
  constructor(private readonly image: GuestImage | undefined, private readonly scenario: Scenario) {
    this.work = path.join(CACHE, 'run', scenario.name);
  }

  async prepare(): Promise<void> {
    fs.rmSync(this.work, { recursive: true, force: true });
    fs.mkdirSync(this.work, { recursive: true });
    const started = Date.now();
    this.slots = await slotImages(this.scenario.slots ?? {});
    this.imageMs = Date.now() - started;
    const first = this.slots.values().next().value ?? this.image;
    if (first === undefined) throw new Error(`${this.scenario.name}: no guest image and no slots`);
    // A read-only root boots as it is; a read-write one from the scenario's own copy.
    if (!first.readOnlyRoot) await sparseCopy(first.root, path.join(this.work, 'root.img'));
    await sparseCopy(first.var, path.join(this.work, 'var.img'));
    this.accel = await pickAccel(first.kernel, first.initrd, path.join(this.work, 'accel-probe.log'));
  }

  /** The image phase boots: its slot's, else the suite's guest image. */
  private imageFor(phase: Phase, index: number): GuestImage {
    const image = phase.slot === undefined ? this.image : this.slots.get(phase.slot);
    if (image === undefined) throw new Error(`${this.scenario.name} phase ${index + 1}: ${phase.slot === undefined ? 'no guest image' : `unknown slot ${phase.slot}`}`);
    return image;
  }

  /** The phase's disks: root (read-only as it is, or the scenario's copy), /var, the base of /opt if any. */
  private async drives(phase: Phase, index: number, image: GuestImage): Promise<Drive[]> {
    const root: Drive = image.readOnlyRoot ? { file: image.root, serial: 'soroot', readonly: true } : { file: path.join(this.work, 'root.img'), serial: 'soroot' };
    const drives = [root, { file: path.join(this.work, 'var.img'), serial: 'sovar' }];
    if (phase.base === undefined) return drives;
    const spec = this.scenario.bases?.[phase.base];
    if (spec === undefined) throw new Error(`${this.scenario.name} phase ${index + 1}: unknown base ${phase.base}`);
    return [...drives, { file: await baseDisk(spec), serial: 'sobase', readonly: true }];
  }

  /** Boots phase `index`; throws with the phase's output and an artifact path when it fails. */
  async phase(index: number): Promise<PhaseReport> {
    const phase = this.scenario.phases[index];
    if (phase === undefined || this.accel === undefined) throw new Error(`${this.scenario.name}: no phase ${index + 1}, or not prepared`);
    const image = this.imageFor(phase, index);
    const drives = await this.drives(phase, index, image);
    const share = this.share(index, phase);
    const input = path.join(this.work, 'input');
    const results = path.join(this.work, `results-${index + 1}`);
    const io = path.join(this.work, 'io.img');
    const consoleLog = path.join(this.work, `console-${index + 1}.log`);
    fs.rmSync(input, { recursive: true, force: true });
    fs.rmSync(results, { recursive: true, force: true });
    fs.mkdirSync(input);
    fs.writeFileSync(path.join(input, 'phase-name'), `${this.scenario.name} ${index + 1}: ${phase.name}\n`);
    fs.copyFileSync(path.join(VM_TESTS, 'guest', 'lib.sh'), path.join(input, 'lib.sh'));
    fs.writeFileSync(path.join(input, 'phase.sh'), phaseScript(phase));
    await writeIoDisk(input, io);

    const r = await bootRetrying({
      kernel: image.kernel,
      initrd: image.initrd,
      append: append(image, phase),
      drives: [...drives, { file: io, serial: 'vmio' }],
      ...(share === undefined ? {} : { shares: [share] }),
      console: consoleLog,
      timeoutMs: phase.timeoutMs ?? DEFAULT_PHASE_TIMEOUT_MS,
      accel: this.accel,
      ...(phase.cutOn === undefined ? {} : { cutOn: phase.cutOn }),
    });
    const label = `${this.scenario.name} phase ${index + 1} (${phase.name}, ${this.accel})`;
    if (r.retried !== undefined) console.log(`${this.scenario.name} phase ${index + 1}: retried the boot: ${r.retried}`);
    const retried = r.retried === undefined ? {} : { retried: r.retried };
    const failed = (why: string, detail: string): never => {
      const kept = keepArtifacts(this.scenario.name, index, [consoleLog, results, ...(share === undefined ? [] : [share.log])]);
      const again = r.retried === undefined ? '' : ` (after a retry: ${r.retried})`;
      throw new Error(`${label}: ${why}${again}\n${detail}\nconsole and results kept in ${kept}`);
    };
    if (phase.cutOn !== undefined) {
      if (r.outcome !== 'cut') failed(`expected a power cut at ${JSON.stringify(phase.cutOn)}, got ${r.outcome}`, tail(consoleLog, 60));
      return { phase: phase.name, outcome: 'power cut', ms: r.ms, notes: [], ...retried };
    }
    if (r.outcome === 'timeout') failed(`no poweroff within ${phase.timeoutMs ?? DEFAULT_PHASE_TIMEOUT_MS} ms`, tail(consoleLog, 60));
    if (!(await readIoDisk(io, results))) failed(`the guest wrote no results (QEMU exit ${r.exitCode})`, tail(consoleLog, 60));
    const status = fs.readFileSync(path.join(results, 'status'), 'utf8').trim();
    if (status !== '0') failed(`phase script exit status ${status}`, tail(path.join(results, 'output.log'), 80));
    // The orderly power-off unmounted the overlays before /var: the /var disk is clean, as fsck sees it.
    const unclean = await uncleanExt4(path.join(this.work, 'var.img'));
    if (unclean !== undefined) failed(`/var was not left clean at shutdown: ${unclean}`, tail(consoleLog, 60));
    const notes = fs.readFileSync(path.join(results, 'output.log'), 'utf8').split('\n').filter((l) => l.startsWith('note: '));
    return { phase: phase.name, outcome: 'passed', ms: r.ms, notes: [...(share?.changes ?? []), ...notes], ...retried };
  }

  /** The shared directory changed in place to the phase's `share` base, or undefined when it has none. */
  private share(index: number, phase: Phase): (Share & { changes: string[] }) | undefined {
    if (phase.share === undefined) return undefined;
    const spec = this.scenario.bases?.[phase.share];
    if (spec === undefined) throw new Error(`${this.scenario.name} phase ${index + 1}: unknown share base ${phase.share}`);
    const dir = path.join(this.work, 'share');
    const changed = updateTree(dir, spec);
    const log = path.join(this.work, `virtiofsd-${index + 1}.log`);
    fs.rmSync(log, { force: true });
    const changes = [`host: the share holds ${phase.share}, ${changed.length} path(s) changed${changed.length > 0 && changed.length <= 12 ? `: ${changed.join(' ')}` : ''}`];
    return { dir, tag: SHARE_TAG, log, changes };
  }

  /** Removes the scenario's disks (kept on failure for a look at them). */
  cleanup(): void {
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

function phaseScript(phase: Phase): string {
  return `# generated: ${phase.name}\nsource ./lib.sh\n${phase.script ?? 'finish'}\n`;
}
