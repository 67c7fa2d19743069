// Generation ids of a base (DESIGN section 2): a shipped manifest's digest, the booted ostree deployment,
// a stat walk of the tree, or a configured command.
import fs from 'node:fs';
import path from 'node:path';
import { newSha256 } from '../hash.js';
import type { Overlay } from '../overlay/overlay.js';
import { StateOverlayError, ioError } from '../errors.js';
import { run } from '../exec.js';
import { majorMinor } from '../tree/fsat.js';
import { treeRecords } from '../native/syscalls.js';
import { readMountinfo, type MountEntry } from '../mount/mountinfo.js';
import { displayPath, type RelPath } from '../model/entry.js';
import { bootedOstreeChecksum } from './ostree.js';
import { baseSkip, type BaseSkip } from './submounts.js';
import { manifestDigest, openManifest, trailerDigest } from '../manifest/store.js';

export type GenerationSourceKind = 'manifest' | 'ostree' | 'tree' | 'command';
export interface Generation {
  readonly generation: string;
  readonly source: GenerationSourceKind;
  /** The shipped manifest the generation came from (source 'manifest'). */
  readonly shipped?: string;
  /** Entries the base has, where finding the generation counted them (source 'tree'). */
  readonly entries?: number;
}

const BY_UUID = '/dev/disk/by-uuid';

/** The UUID /dev/disk/by-uuid gives the block device dev, or undefined (no such name: tmpfs, overlayfs, a container). */
function uuidOf(dev: bigint): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(BY_UUID);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot list', BY_UUID, err);
  }
  for (const name of names.sort()) {
    try {
      if (fs.statSync(path.join(BY_UUID, name), { bigint: true }).rdev === dev) return name;
    } catch (err) {
      // A link to a device that went away names nothing.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('stat', path.join(BY_UUID, name), err);
    }
  }
  return undefined;
}

/**
 * The identity of the filesystem the base is on. A block device's: its device number and, where it has
 * one, its UUID. A filesystem without one (major 0: virtio-fs, NFS, FUSE, btrfs, overlayfs, tmpfs) has
 * a number the kernel hands out in mount order, which a reboot that mounts in another order changes
 * (a virtio-fs share mounted by fstab got another one than the same share mounted by hand): the type and
 * source of its mount stand for it, from the mount table.
 */
export function treeIdentity(baseDir: string, mounts: () => readonly MountEntry[] = readMountinfo): string {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(baseDir, { bigint: true });
  } catch (err) {
    throw ioError('stat base', baseDir, err);
  }
  const [major, minor] = majorMinor(st.dev);
  if (major === 0) {
    const m = mounts().find((e) => e.dev === `0:${minor}`);
    if (m !== undefined) return `fs ${m.fstype} source ${m.source}`;
  }
  const uuid = uuidOf(st.dev);
  return `dev ${major}:${minor}${uuid === undefined ? '' : ` uuid ${uuid}`}`;
}

/**
 * 'tree:<sha256>' of a stat walk: path, type, mode, owner, size, mtime, ctime and inode of every entry,
 * then the base's filesystem identity (treeIdentity()); no content is read. A false "changed" costs a
 * reconcile and a manifest, never data (the decision table compares digests); a false "unchanged" would
 * let an update go unseen, so everything an update of the tree cannot leave as it was is in: a rewrite in
 * place moves the ctime, even with size and mtime kept.
 */
export function treeGeneration(baseDir: string, skip?: BaseSkip): string {
  return treeWalk(baseDir, skip).generation;
}

const NO_SKIP: BaseSkip = Object.assign(() => false, { watch: [] });

/**
 * treeGeneration(), and the number of entries the walk saw. Walked in C (native treeRecords), which
 * formats each record as `PATH\0TYPE MODE UID:GID SIZE MTIME_NS CTIME_NS INO\n` (the lstat of the
 * entry, bigint times) in src/tree/walk.ts's order: one call for the tree, where JavaScript per entry
 * cost about twice the system calls on a walk made once per process.
 */
export function treeWalk(baseDir: string, skip: BaseSkip = NO_SKIP): { generation: string; entries: number } {
  const h = newSha256();
  let entries: number;
  try {
    entries = treeRecords(baseDir, skip.watch ?? null, (p) => skip(p as RelPath), (chunk) => h.update(chunk));
  } catch (err) {
    const at = (err as { relPath?: string }).relPath;
    if (at === undefined) throw err;
    // The messages of the walk in JavaScript: the root by its path, an entry by its path below it.
    throw at === '' ? ioError('read directory', baseDir, err) : ioError('read', `${baseDir}/${displayPath(at as RelPath)}`, err);
  }
  // Last: a base that cannot be read fails in the walk, with the walk's message.
  h.update(`${treeIdentity(baseDir)}\n`);
  return { generation: `tree:${h.digest('hex')}`, entries };
}

const MANIFEST = 'manifest:';
export const manifestGeneration = (file: string): string => `${MANIFEST}${manifestDigest(file)}`;

/**
 * The shipped manifest a `manifest:` generation was read from, with the sha256 its bytes must have: the
 * current base's own entries and digests. null for other generations.
 */
export function generationManifest(g: Pick<Generation, 'generation' | 'shipped'>): { readonly file: string; readonly sha256: string } | null {
  return g.shipped !== undefined && g.generation.startsWith(MANIFEST) ? { file: g.shipped, sha256: g.generation.slice(MANIFEST.length) } : null;
}

/** The recorded generation and the copy of its manifest kept in the state dir. */
export interface KeptManifest {
  readonly generation: string;
  readonly file: string;
}

/** True when the shipped manifest holds the same bytes as the kept copy; false when there is no kept copy. */
function sameBytes(shipped: string, kept: string): boolean {
  let k: ReturnType<typeof openManifest>;
  try {
    k = openManifest(kept);
  } catch (err) {
    // Not kept (yet): the shipped one is hashed. Any other failure names the file (openManifest).
    if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return false;
    throw err;
  }
  try {
    const s = openManifest(shipped);
    try {
      const bs = Buffer.allocUnsafe(1 << 20);
      const bk = Buffer.allocUnsafe(1 << 20);
      for (let at = 0; ; ) {
        // Whole chunks until the end of either: a shorter file reads fewer bytes.
        const n = s.read(bs, 0, bs.length, at);
        if (n !== k.read(bk, 0, bk.length, at) || !bs.subarray(0, n).equals(bk.subarray(0, n))) return false;
        if (n === 0) return true;
        at += n;
      }
    } finally {
      s.close();
    }
  } finally {
    k.close();
  }
}

/**
 * The generation of a shipped manifest. A v2 manifest's trailer holds its digest: read, never
 * recomputed (whoever reads the manifest checks it). A v1 manifest whose bytes equal the kept copy of
 * the recorded `manifest:` generation has that generation (a byte comparison costs less than a sha256
 * of a large manifest, on every start); otherwise it is hashed. Never judged by stat data:
 * reproducible images give an updated manifest the same size, mtime and even inode number.
 */
export function shippedGeneration(shipped: string, kept?: KeptManifest): string {
  if (kept !== undefined && kept.generation.startsWith(MANIFEST) && trailerDigest(shipped) === undefined && sameBytes(shipped, kept.file)) return kept.generation;
  return manifestGeneration(shipped);
}

export function ostreeGeneration(root: string): string | undefined {
  const sum = bootedOstreeChecksum(root);
  return sum === undefined ? undefined : `ostree:${sum}`;
}

/** Runs a configured generation command (argv split on blanks, no shell); its trimmed stdout is the generation. */
export async function commandGeneration(command: string): Promise<string> {
  const [file, ...args] = command.trim().split(/\s+/);
  if (file === undefined || file === '') throw new StateOverlayError('config', 'Generation=command: empty command');
  const r = await run(file, args);
  const out = r.stdout.trim();
  if (out === '' || /[\r\n]/.test(out)) {
    throw new StateOverlayError('exec', `${command}: expected one line naming the generation on stdout, got ${JSON.stringify(out.slice(0, 200))}`);
  }
  return `command:${out}`;
}

/**
 * The current generation of an overlay's base, honouring Generation= (auto: shipped manifest, else ostree,
 * else tree). baseDir replaces overlay.base for the tree walk (the private base bind while mounted);
 * kept spares hashing a shipped manifest identical to the recorded one.
 */
export async function currentGeneration(overlay: Overlay, opts: { baseDir?: string; kept?: KeptManifest } = {}): Promise<Generation> {
  const { config, layout } = overlay;
  const base = opts.baseDir ?? overlay.base;
  const kind = config.generation.kind;
  if (kind === 'command') return { generation: await commandGeneration(config.generation.command), source: 'command' };
  const shipped = layout.shippedManifest;
  if (kind === 'manifest' || (kind === 'auto' && fs.existsSync(shipped))) {
    if (!fs.existsSync(shipped)) {
      throw new StateOverlayError('config', `Generation=manifest: no shipped manifest at ${shipped}`, { path: shipped });
    }
    return { generation: shippedGeneration(shipped, opts.kept), source: 'manifest', shipped };
  }
  if (kind === 'ostree' || kind === 'auto') {
    const g = ostreeGeneration(layout.root);
    if (g !== undefined) return { generation: g, source: 'ostree' };
    if (kind === 'ostree') throw new StateOverlayError('config', 'Generation=ostree: not booted on an ostree deployment (no /run/ostree-booted or ostree= karg)');
  }
  return { ...treeWalk(base, baseSkip(overlay)), source: 'tree' };
}
