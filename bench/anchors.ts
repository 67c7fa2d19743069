// The reconcile's two anchors, C programs built from bench/c/ with the machine's compiler at bench
// time: ostree's own state-overlay prune (the peer) and the crash-safe floor (the product's plan,
// executed with the fewest syscalls that keep it durable). Also what proves the peer comparable:
// `Reconcile=all` drops exactly the paths ostree's prune deletes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const here = path.dirname(fileURLToPath(import.meta.url));
/** bench/c, from bench/ (sources, as the tests load them) or from the compiled bench/.work/build/bench/. */
const SOURCES = [path.join(here, 'c'), path.resolve(here, '../../../c')].find((d) => fs.existsSync(d)) ?? path.join(here, 'c');

export interface Anchors {
  readonly prune: string;
  readonly floor: string;
}

/** Compiles both programs into dir/bin (again only when a source changed); fails naming the compiler's error. */
export async function buildAnchors(dir: string): Promise<Anchors> {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const build = async (name: string): Promise<string> => {
    const src = path.join(SOURCES, `${name}.c`);
    const key = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 12);
    const out = path.join(bin, `${name}-${key}`);
    if (fs.existsSync(out)) return out;
    const r = await execa('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', `${out}.tmp`, src], { reject: false, stdin: 'ignore' });
    if (r.exitCode !== 0) throw new Error(`gcc ${src}: ${r.stderr || r.message}`);
    fs.renameSync(`${out}.tmp`, out);
    return out;
  };
  return { prune: await build('ostree-prune'), floor: await build('crash-safe-floor') };
}

interface Timed {
  /** Time the program measured itself, from opening its dirs to its last syscall (process start-up excluded). */
  readonly ms: number;
}

async function timedRun<T extends Timed>(file: string, args: readonly string[]): Promise<T> {
  const r = await execa(file, args, { stdin: 'ignore', reject: false });
  if (r.exitCode !== 0) throw new Error(`${path.basename(file)} ${args.join(' ')}: ${r.stderr || r.message}`);
  return JSON.parse(r.stdout) as T;
}

/** ostree's prune of upper against lower; with list, the deleted paths are written there (NUL-ended). */
export const ostreePrune = (a: Anchors, lower: string, upper: string, list?: string): Promise<Timed & { deleted: number }> =>
  timedRun(a.prune, list === undefined ? [lower, upper] : [lower, upper, list]);

export interface FloorDirs {
  readonly base: string;
  readonly upper: string;
  /** The backup set's directory (its tree goes in SET/upper). */
  readonly set: string;
  readonly journal: string;
}

export const crashSafeFloor = (a: Anchors, plan: string, d: FloorDirs): Promise<Timed & { actions: number }> =>
  timedRun(a.floor, [plan, d.base, d.upper, d.set, d.journal]);

/** An action of a `ReconcileReport` as `--json` prints it (the fields the floor needs). */
export interface JsonAction {
  readonly kind: string;
  readonly pathBase64: string;
  readonly toBase64?: string;
  readonly fromBase64?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

const raw = (b64: string | undefined, what: string): Buffer => {
  if (b64 === undefined) throw new Error(`plan action without ${what}`);
  return Buffer.from(b64, 'base64');
};

/** Writes the plan for crash-safe-floor (records of NUL-ended fields, see bench/c/crash-safe-floor.c); returns the steps written. */
export function writeFloorPlan(actions: readonly JsonAction[], file: string): number {
  const fields: Buffer[] = [];
  let n = 0;
  const record = (...xs: (string | Buffer)[]): void => {
    n++;
    for (const x of xs) fields.push(typeof x === 'string' ? Buffer.from(x) : x, Buffer.alloc(1));
  };
  for (const a of actions) {
    const p = raw(a.pathBase64, 'pathBase64');
    switch (a.kind) {
      case 'move-to-backups': record('M', p); break;
      case 'rename': record('R', p, raw(a.toBase64, 'toBase64')); break;
      case 'write-sidecar': record('S', p, raw(a.fromBase64, 'fromBase64')); break;
      case 'set-attrs': record('A', p, (a.mode ?? 0).toString(8), String(a.uid ?? 0), String(a.gid ?? 0)); break;
      case 'remove-empty-dir': record('D', p); break;
      case 'keep': break;
      default: throw new Error(`plan action ${a.kind}: the crash-safe floor has no such step`);
    }
  }
  fs.writeFileSync(file, Buffer.concat(fields));
  return n;
}

/** The paths ostree-prune listed (as latin1 strings, one char per byte). */
export function readPruneList(file: string): string[] {
  const bytes = fs.readFileSync(file);
  const out: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = bytes.indexOf(0, at);
    out.push(bytes.subarray(at, end).toString('latin1'));
    at = end + 1;
  }
  return out;
}

/** The paths a plan moves to backups (latin1 strings, as readPruneList). */
export const droppedPaths = (actions: readonly JsonAction[]): string[] =>
  actions.filter((a) => a.kind === 'move-to-backups').map((a) => Buffer.from(a.pathBase64, 'base64').toString('latin1'));

/** Null when both sets are equal; otherwise what differs, both ways, the first paths of each named. */
export function differences(pruned: readonly string[], dropped: readonly string[]): string | null {
  const p = new Set(pruned);
  const d = new Set(dropped);
  const onlyPruned = [...p].filter((x) => !d.has(x)).sort();
  const onlyDropped = [...d].filter((x) => !p.has(x)).sort();
  if (onlyPruned.length === 0 && onlyDropped.length === 0) return null;
  const show = (xs: string[]): string => `${xs.length}${xs.length > 0 ? ` (${xs.slice(0, 10).map((x) => JSON.stringify(Buffer.from(x, 'latin1').toString())).join(', ')}${xs.length > 10 ? ', …' : ''})` : ''}`;
  return `Reconcile=all and ostree's prune differ: deleted by the prune only ${show(onlyPruned)}; dropped by Reconcile=all only ${show(onlyDropped)}`;
}
