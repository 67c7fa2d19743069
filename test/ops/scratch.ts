// Scratch overlays for reconcile integration tests: a --root tree with a base, an upper built from a spec,
// a recorded generation with its manifest, and snapshots of trees to compare runs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { getAttributeSync, listAttributesSync } from 'fs-xattr';
import type { Overlay } from '../../src/overlay/overlay.js';
import { defaultConfig, type OverlayConfig } from '../../src/config/schema.js';
import { buildManifest } from '../../src/manifest/build.js';
import { manifestPath } from '../../src/manifest/store.js';
import { pristineOf } from '../../src/ops/pristine.js';
import { layoutFor } from '../../src/paths/layout.js';
import { ensureStateSubdir } from '../../src/state/state-dir.js';
import { writeState } from '../../src/state/state-file.js';
import { overlayXattrsAt, setOverlayXattr } from '../../src/tree/xattr.js';
import { walk } from '../../src/tree/walk.js';
import { mknod } from '../tree/fixtures.js';

export type Spec =
  | string
  | { file: string; mode?: number; uid?: number; gid?: number }
  | { link: string }
  | { dir: true; mode?: number; uid?: number; opaque?: boolean }
  | { whiteout: 'chardev' | 'xattr' }
  | { fifo: true };

/** Writes a tree: keys are relative paths (parents listed before children, or created 0755). */
export async function writeTree(dir: string, tree: Record<string, Spec>): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, spec] of Object.entries(tree)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (typeof spec === 'string') fs.writeFileSync(p, spec, { mode: 0o644 });
    else if ('file' in spec) {
      fs.writeFileSync(p, spec.file);
      fs.chmodSync(p, spec.mode ?? 0o644);
      fs.chownSync(p, spec.uid ?? 0, spec.gid ?? 0);
    } else if ('link' in spec) fs.symlinkSync(spec.link, p);
    else if ('dir' in spec) {
      fs.mkdirSync(p, { recursive: true });
      fs.chmodSync(p, spec.mode ?? 0o755);
      fs.chownSync(p, spec.uid ?? 0, 0);
      if (spec.opaque) setOverlayXattr(p, 'opaque', 'y');
    } else if ('whiteout' in spec) {
      if (spec.whiteout === 'chardev') await mknod(p, 'c', 0, 0);
      else {
        fs.writeFileSync(p, '');
        setOverlayXattr(p, 'whiteout', '');
      }
    } else await import('../../src/exec.js').then(({ run }) => run('mkfifo', [p]));
  }
}

export interface Scratch {
  readonly root: string;
  readonly ov: Overlay;
  /** Records `generation` with a manifest of the base as it is now. */
  record(generation: string): Promise<void>;
}

export function scratchOverlay(root: string, over: Partial<Omit<OverlayConfig, 'paths'>> & { paths?: Partial<OverlayConfig['paths']> } = {}): Scratch {
  const d = defaultConfig('opt', '/opt');
  const config: OverlayConfig = { ...d, ...over, paths: { ...d.paths, ...over.paths } };
  const layout = layoutFor(root, 'opt', '/opt');
  const ov: Overlay = { name: 'opt', config, layout, base: path.join(root, 'opt') };
  return {
    root,
    ov,
    async record(generation) {
      ensureStateSubdir(layout, layout.manifestsDir);
      const file = manifestPath(layout, generation);
      await buildManifest(ov.base, file);
      writeState(layout, { schemaVersion: 1, generation, manifest: path.basename(file), lastReconcile: null });
      // As run records a manifest: the base content merges will need (nothing without a merge driver).
      pristineOf(ov, file, ov.base, null);
    },
  };
}

/** path → "type mode uid gid digest xattrs" of every entry below dir (names as binary strings). */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  for (const e of walk(dir)) {
    const st = e.st;
    let content = '';
    if (e.type === 'file') content = crypto.createHash('sha256').update(fs.readFileSync(Buffer.concat([Buffer.from(`/proc/self/fd/${e.dirFd}/`), e.name]))).digest('hex');
    else if (e.type === 'symlink') content = fs.readlinkSync(Buffer.concat([Buffer.from(`/proc/self/fd/${e.dirFd}/`), e.name]), { encoding: 'buffer' }).toString('latin1');
    else if (e.type === 'chr' || e.type === 'blk') content = String(st.rdev);
    const x = e.type === 'dir' || e.type === 'file' ? overlayXattrsAt(e.dirFd, e.name) : undefined;
    const xs = x ? `${x.opaque ?? ''}${x.whiteout ? 'W' : ''}` : '';
    out.set(e.path, `${e.type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${content} ${xs}`);
  }
  return out;
}

export const sorted = (m: Map<string, string>): Array<[string, string]> => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Every xattr of the entry at an fd path (its own, never a symlink's target), values in hex, sorted by name. */
function allXattrs(at: Buffer | string): string {
  const fd = fs.openSync(at, 0o10000000 | fs.constants.O_NOFOLLOW);
  try {
    const p = `/proc/self/fd/${fd}`;
    return listAttributesSync(p).sort().map((n) => `${n}=${getAttributeSync(p, n).toString('hex')}`).join(',');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * snapshot() and more, dir itself included (as ''): every xattr (any namespace, values in hex), the mtime
 * to the microsecond, and for an entry with other links the first path in the tree sharing its inode.
 * What a move must keep, whole.
 */
export function snapshotFull(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  const top = fs.lstatSync(dir, { bigint: true });
  out.set('', `dir ${(top.mode & 0o7777n).toString(8)} ${top.uid}:${top.gid} mtime=${top.mtimeNs / 1000n} [${allXattrs(dir)}]`);
  const plain = snapshot(dir);
  const firstOf = new Map<string, string>();
  for (const e of walk(dir, { bigint: true })) {
    const xattrs = allXattrs(Buffer.concat([Buffer.from(`/proc/self/fd/${e.dirFd}/`), e.name]));
    let link = '';
    if (e.type !== 'dir' && e.st.nlink > 1n) {
      const key = `${e.st.dev}:${e.st.ino}`;
      link = firstOf.get(key) ?? '';
      if (link === '') firstOf.set(key, e.path);
    }
    out.set(e.path, `${plain.get(e.path)} mtime=${e.st.mtimeNs / 1000n} [${xattrs}] link=${link}`);
  }
  return out;
}
