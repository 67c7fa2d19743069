// Overlayfs stacks at most FILESYSTEM_MAX_STACK_DEPTH (2) filesystems deep: an overlay's depth is one more
// than its deepest layer's. Image-based roots are often an overlay already (composefs: an overlay over an
// erofs image), so a state overlay starts one level deep, and over a root two overlays deep the kernel
// refuses with a bare EINVAL ("overlayfs: maximum fs stacking depth exceeded" in dmesg only). Checked here
// first. When the base lies on an overlay too deep whose own layers are reachable, the state overlay takes
// those layers (at the base's subpath) as its lowers, top first: the same merged view, one level less.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError } from '../errors.js';
import { devName, fileId } from './identity.js';
import type { MountEntry } from './mountinfo.js';
import { overlayXattrs, type XattrNamespace } from '../tree/xattr.js';

/** Whether a layer path another mount names resolves here; one that fails (a dead network mount) does not, and never fails the mount of ours. */
function reachable(p: string): boolean {
  try {
    return fileId(p) !== undefined;
  } catch {
    return false;
  }
}

/** include/linux/fs.h FILESYSTEM_MAX_STACK_DEPTH. */
export const MAX_STACK_DEPTH = 2;

/** The mount whose filesystem holds dir (its device's last mount, the one path lookups reach), if any. */
function mountOf(entries: readonly MountEntry[], dir: string): MountEntry | undefined {
  const id = fileId(dir);
  if (id === undefined) return undefined;
  const dev = devName(id.dev);
  const real = fs.realpathSync(dir);
  // Of the mounts of that device, the one with the longest mountpoint above dir.
  return entries
    .filter((e) => e.dev === dev && (real === e.mountpoint || real.startsWith(e.mountpoint === '/' ? '/' : `${e.mountpoint}/`)))
    .sort((a, b) => b.mountpoint.length - a.mountpoint.length)[0];
}

/** One layer list option as mountinfo shows it (after octal unescaping): `a:b::c`, a backslash before a literal ':'. */
export function splitLayers(shown: string): { readonly layers: string[]; readonly dataOnly: string[] } {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < shown.length; i++) {
    const c = shown[i]!;
    if (c === '\\' && i + 1 < shown.length) cur += shown[++i];
    else if (c === ':') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  // `a::b`: an empty part marks where the data-only layers begin.
  const gap = parts.indexOf('');
  return gap < 0 ? { layers: parts, dataOnly: [] } : { layers: parts.slice(0, gap), dataOnly: parts.slice(gap + 1).filter((p) => p !== '') };
}

interface OverlayLayers {
  readonly entry: MountEntry;
  /** Top first: the upper (if any), then the lowers. */
  readonly layers: readonly string[];
  readonly dataOnly: readonly string[];
}

function layersOf(e: MountEntry): OverlayLayers {
  const { layers, dataOnly } = splitLayers(e.superOptions.get('lowerdir') ?? '');
  const upper = e.superOptions.get('upperdir');
  return { entry: e, layers: [...(upper === undefined ? [] : [upper.replace(/\\(.)/g, '$1')]), ...layers.filter((l) => l !== '')], dataOnly };
}

/**
 * The stacking depth of the filesystem holding dir: 0 for a plain filesystem, one more than its deepest
 * layer for an overlay. A layer that cannot be reached from here (a path of the initramfs, another mount
 * namespace) counts as 0: the kernel's own refusal is then the last word, and its error is explained.
 */
export function stackDepth(entries: readonly MountEntry[], dir: string, seen: ReadonlySet<string> = new Set()): number {
  const e = mountOf(entries, dir);
  if (e === undefined || e.fstype !== 'overlay' || seen.has(e.dev)) return 0;
  const next = new Set([...seen, e.dev]);
  const { layers, dataOnly } = layersOf(e);
  return 1 + Math.max(0, ...[...layers, ...dataOnly].filter(reachable).map((l) => stackDepth(entries, l, next)));
}

/**
 * The layers of an overlay that show its directory `sub` (relative), top first, as overlayfs merges them:
 * where a component of the path is not a directory in a layer (a whiteout, a file), that layer shows
 * nothing there and hides the layers below; an opaque directory on the path shows its layer and hides
 * the ones below; a layer without the path adds nothing.
 */
function layersShowing(o: OverlayLayers, sub: string): string[] {
  const ns: readonly XattrNamespace[] = o.entry.superOptions.has('userxattr') ? ['user'] : ['trusted'];
  const out: string[] = [];
  for (const layer of o.layers) {
    let p = layer;
    let hides = false;
    let present = true;
    for (const part of sub === '' ? [] : sub.split('/')) {
      p = path.join(p, part);
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (st === undefined || !st.isDirectory()) {
        present = false;
        hides ||= st !== undefined;
        break;
      }
      if (overlayXattrs(p, ns).opaque === 'y') hides = true;
    }
    if (present) out.push(p);
    if (hides) break;
  }
  return out;
}

/**
 * The first name in dir (sorted) that none of the layers (layersShowing's, top first, cut at an opaque
 * one) shows there, or undefined: a whiteout hides its name in the layers below it.
 */
function missingFrom(layers: readonly string[], dir: string): string | undefined {
  const shown = new Set<string>();
  const hidden = new Set<string>();
  for (const layer of layers) {
    for (const d of fs.readdirSync(layer, { withFileTypes: true })) {
      if (hidden.has(d.name)) continue;
      // A whiteout: a character device 0/0.
      if (d.isCharacterDevice() && fs.lstatSync(path.join(layer, d.name)).rdev === 0) hidden.add(d.name);
      else shown.add(d.name);
    }
  }
  return fs.readdirSync(dir).sort().find((n) => !shown.has(n));
}

export interface Lowers {
  /** The overlay's lowerdirs, top first. */
  readonly lowers: readonly string[];
  /** The overlay the base lay on, when its layers were taken instead (for the log). */
  readonly flattened?: string;
}

/** The overlay holding dir (an overlay: stackDepth > 0), its layers, the mount it is named by, and dir's path within it ('' at its root). */
function overlayAt(entries: readonly MountEntry[], dir: string) {
  const e = mountOf(entries, dir)!;
  // Named by its own mount (root '/'), not by a bind of a directory of it such as the base bind.
  const named = entries.find((x) => x.dev === e.dev && x.root === '/') ?? e;
  const real = fs.realpathSync(dir);
  const sub = path.join(e.root, path.relative(e.mountpoint, real)).replace(/^\/+/, '');
  return { e, o: layersOf(e), named, real, sub: sub === '.' ? '' : sub };
}

/**
 * What to say beside the kernel's refusal of a mount over dir (the base bind), '' when dir is on no
 * overlay. The depth counted here is a lower bound: a layer unmounted since its overlay was mounted (or in
 * another mount namespace) counts as 0, as its path shows what lies below. When dir's overlay would allow
 * one more level by that count yet its layers no longer show what dir shows, say so: the kernel counts
 * the layers it holds, which are deeper.
 */
export function refusalHint(entries: readonly MountEntry[], dir: string): string {
  const depth = stackDepth(entries, dir);
  if (depth === 0) return '';
  const advice = `overlayfs stacks at most ${MAX_STACK_DEPTH}: if dmesg says "maximum fs stacking depth exceeded", set Base= to a directory on a plain filesystem`;
  if (depth + 1 > MAX_STACK_DEPTH) return ` (the base lies on an overlay ${depth} deep; ${advice})`;
  const { o, named, real, sub } = overlayAt(entries, dir);
  let missing: string | undefined;
  try {
    const shown = layersShowing(o, sub);
    missing = shown.length === 0 ? fs.readdirSync(real).sort()[0] : missingFrom(shown, real);
  } catch {
    missing = undefined;
  }
  const plural = depth === 1 ? 'overlay' : 'overlays';
  if (missing === undefined) return ` (the base lies on the overlay mounted on ${named.mountpoint}, at least ${depth} ${plural} deep; ${advice})`;
  return ` (the base lies on the overlay mounted on ${named.mountpoint}, at least ${depth} ${plural} deep: its layers at ${sub === '' ? '/' : sub} do not show ${missing}, which the base shows, so a layer was unmounted or replaced since that overlay was mounted and the kernel counts it deeper; ${advice})`;
}

/**
 * The lowers for a state overlay over base: base itself when the result stays within the kernel's depth;
 * else the layers of the overlay holding base, at base's subpath, when that keeps it within; else an
 * 'unsupported' error that says why and what to configure.
 */
export function lowersFor(entries: readonly MountEntry[], base: string, baseName = base): Lowers {
  const depth = stackDepth(entries, base);
  if (depth + 1 <= MAX_STACK_DEPTH) return { lowers: [base] };
  const { e, o, named, real, sub } = overlayAt(entries, base);
  const refuse = (why: string) =>
    new StateOverlayError(
      'unsupported',
      `cannot mount an overlay over ${baseName}: it lies on the overlay mounted on ${named.mountpoint}, ${depth} overlays deep, and overlayfs stacks at most ${MAX_STACK_DEPTH} (FILESYSTEM_MAX_STACK_DEPTH); ${why}: set Base= to a directory on a plain filesystem with the same content (a physical checkout of the image, e.g. the deployment under /sysroot/ostree/deploy/)`,
      { path: base },
    );
  if (o.dataOnly.length > 0 || e.superOptions.get('metacopy') === 'on') throw refuse('its files are metadata over data-only layers (composefs), which only that overlay can resolve');
  const unreachable = o.layers.filter((l) => !reachable(l));
  if (unreachable.length > 0) throw refuse(`its layers ${unreachable.join(', ')} cannot be reached from here`);
  const lowers = layersShowing(o, sub);
  if (lowers.length === 0) throw refuse(`no layer of it holds ${sub}`);
  // A layer path names what was there at mount time: a layer unmounted since (a lazy umount, a stopped
  // mount unit) leaves the directory below it, and the view would lose what that layer showed.
  const missing = missingFrom(lowers, real);
  if (missing !== undefined) throw refuse(`its layers at ${sub} do not show ${missing}, which ${baseName} shows (a layer unmounted or replaced since that overlay was mounted)`);
  const deepest = Math.max(...lowers.map((l) => stackDepth(entries, l)));
  if (deepest + 1 > MAX_STACK_DEPTH) throw refuse(`its own layers are ${deepest} deep`);
  return { lowers, flattened: named.mountpoint };
}
