// Pure plan of a realistic base tree (an /opt of many packages): which entries, where, how big.
// Sizes follow the usual long tail: many small files, some MB-size, a few large ones that carry
// most of the bytes. Directory depth and fan-out are skewed as in real trees.
import { createRng, type Rng } from './rng.js';
import { dirName, fileName, packageName, unique } from './names.js';

export interface BaseParams {
  readonly entries: number;
  readonly bytes: number;
  readonly seed: number;
}

interface Owned {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}
export type PlanEntry =
  | (Owned & { readonly kind: 'dir' })
  | (Owned & { readonly kind: 'file'; size: number })
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'hardlink'; readonly path: string; readonly to: string };

export interface BasePlan {
  readonly params: BaseParams;
  /** Parents before children; hard-link targets before their links. */
  readonly entries: readonly PlanEntry[];
  readonly bytes: number;
}

interface Dir {
  readonly path: string;
  readonly depth: number;
  readonly parent: number;
  readonly names: Set<string>;
  readonly weight: number;
  readonly bin: boolean;
}

const MAX_DEPTH = 16;
const MB = 1024 * 1024;

function owner(rng: Rng): { uid: number; gid: number } {
  return rng.chance(0.02) ? { uid: 1000, gid: 1000 } : rng.chance(0.01) ? { uid: 999, gid: 998 } : { uid: 0, gid: 0 };
}

function smallSize(rng: Rng): number {
  const r = rng.next();
  if (r < 0.03) return 0;
  if (r < 0.9) return rng.logInt(32, 8192);
  if (r < 0.991) return rng.logInt(8192, 128 * 1024);
  return rng.logInt(128 * 1024, 2 * MB);
}

function makeDirs(rng: Rng, count: number, out: PlanEntry[]): Dir[] {
  const dirs: Dir[] = [];
  const top = new Set<string>();
  const add = (parent: number, name: string, depth: number): void => {
    const p = parent < 0 ? unique(top, name) : unique((dirs[parent] as Dir).names, name);
    const path = parent < 0 ? p : `${(dirs[parent] as Dir).path}/${p}`;
    // Pareto weights: most directories hold a handful of entries, a few hold thousands.
    const weight = Math.pow(1 - rng.next(), -1 / 1.2);
    dirs.push({ path, depth, parent, names: new Set(), weight, bin: /^s?bin$/.test(p) });
    const mode = rng.chance(0.02) ? rng.pick([0o750, 0o700, 0o775]) : 0o755;
    out.push({ kind: 'dir', path, mode, ...owner(rng) });
  };
  const packages = Math.max(3, Math.round(Math.sqrt(count) / 8));
  for (let i = 0; i < packages && dirs.length < count; i++) {
    add(-1, packageName(rng, i), 1);
    const pkg = dirs.length - 1;
    for (const sub of ['bin', 'lib', 'share', 'etc']) if (dirs.length < count) add(pkg, sub, 2);
  }
  while (dirs.length < count) {
    let i = rng.int(0, dirs.length - 1);
    // Walk up now and then: keeps trees bushy near the top instead of a long random chain.
    while (rng.chance(0.3) && (dirs[i] as Dir).parent >= 0) i = (dirs[i] as Dir).parent;
    if ((dirs[i] as Dir).depth >= MAX_DEPTH) continue;
    add(i, dirName(rng), (dirs[i] as Dir).depth + 1);
  }
  return dirs;
}

/** Picks directories in proportion to their weights (cumulative table + binary search). */
function weightedPicker(rng: Rng, dirs: readonly Dir[]): () => Dir {
  const cum = new Float64Array(dirs.length);
  let total = 0;
  dirs.forEach((d, i) => (cum[i] = total += d.weight));
  return () => {
    const x = rng.next() * total;
    let lo = 0;
    let hi = dirs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return dirs[lo] as Dir;
  };
}

export function planBase(params: BaseParams): BasePlan {
  const rng = createRng(params.seed);
  const entries: PlanEntry[] = [];
  const dirCount = Math.max(8, Math.round(params.entries * 0.11));
  const links = Math.round(params.entries * 0.05);
  const hard = Math.round(params.entries * 0.005);
  const fileCount = params.entries - dirCount - links - hard;
  const dirs = makeDirs(rng, dirCount, entries);
  const pickDir = weightedPicker(rng, dirs);

  const files: (PlanEntry & { kind: 'file' })[] = [];
  let bytes = 0;
  for (let i = 0; i < fileCount; i++) {
    const d = pickDir();
    const path = `${d.path}/${unique(d.names, fileName(rng, d.bin, 0.002))}`;
    const mode = d.bin ? 0o755 : rng.chance(0.02) ? rng.pick([0o600, 0o640, 0o444, 0o4755]) : 0o644;
    const f = { kind: 'file' as const, path, mode, ...owner(rng), size: smallSize(rng) };
    bytes += f.size;
    files.push(f);
  }
  // A few large files (archives, JDK modules, databases) carry the rest of the byte budget.
  const rest = params.bytes - bytes;
  const large = Math.max(2, Math.min(12, Math.round(rest / (48 * MB))));
  for (let i = 0; i < large && files.length > 0; i++) {
    const f = rng.pick(files);
    bytes -= f.size;
    f.size = Math.max(MB, Math.round((rest / large) * (0.7 + 0.6 * rng.next())));
    bytes += f.size;
  }
  for (const f of files) entries.push(f);

  const byPath = new Map(dirs.map((d) => [d.path, d]));
  for (let i = 0; i < links; i++) {
    const r = rng.next();
    // Half are library-style links beside their target (libfoo.so -> libfoo.so.1.2).
    const near = r < 0.5 ? rng.pick(files).path : null;
    const d = near === null ? pickDir() : (byPath.get(near.slice(0, near.lastIndexOf('/'))) as Dir);
    const target =
      near !== null ? near.slice(near.lastIndexOf('/') + 1)
      : r < 0.75 ? `../${rng.pick(files).path.split('/').slice(-2).join('/')}`
      : r < 0.9 ? `/opt/${rng.pick(files).path}`
      : `missing-${rng.int(0, 1e6)}`;
    entries.push({ kind: 'symlink', path: `${d.path}/${unique(d.names, `lib${fileName(rng, false, 0)}.so`)}`, target });
  }
  for (let i = 0; i < hard && files.length > 0; i++) {
    const d = pickDir();
    entries.push({ kind: 'hardlink', path: `${d.path}/${unique(d.names, fileName(rng, d.bin, 0))}`, to: rng.pick(files).path });
  }
  return { params, entries, bytes };
}
