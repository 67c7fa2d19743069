// The overlay mount options (DESIGN section 5), exactly; paths escaped as overlayfs parses them.
import { StateOverlayError } from '../errors.js';

export interface OverlayDirs {
  /** Top first; one, the base bind, unless the base's own overlay layers stand in for it (stacking.ts). */
  readonly lowers: readonly string[];
  readonly upper: string;
  readonly work: string;
}

/**
 * Features that must be off for offline changes to the lower layer to be allowed (overlayfs.rst,
 * "Changes to underlying filesystems"). Stated explicitly: module defaults differ between kernels.
 */
export const FIXED_OPTIONS = ['index=off', 'metacopy=off', 'redirect_dir=off', 'xino=off'] as const;

/**
 * Escapes a layer path for overlayfs: ',' separates options, ':' lower layers, and the kernel's
 * ovl_unescape() drops a backslash before any character. Systemd-escaped NAMEs (opt-my\x2dapp) need this.
 */
export function escapeLayerPath(p: string): string {
  return p.replace(/[\\,:]/g, (c) => `\\${c}`);
}

function checked(key: string, value: string): string {
  if (!value.startsWith('/')) throw new StateOverlayError('usage', `${key} '${value}' is not an absolute path`, { path: value });
  if (value.includes('\n')) {
    throw new StateOverlayError('unsupported', `${key} '${value}' contains a newline, which overlay mount options cannot carry; use a path without it`, {
      path: value,
    });
  }
  return `${key}=${escapeLayerPath(value)}`;
}

/** Whether a layer option shown in mountinfo names this path (kernels show it escaped as given, or plain). */
export function sameLayer(shown: string | undefined, p: string): boolean {
  return shown === p || shown === escapeLayerPath(p);
}

/** `lowerdir=…[:…],upperdir=…,workdir=…,index=off,metacopy=off,redirect_dir=off,xino=off`. */
export function overlayOptions(dirs: OverlayDirs): string {
  const lowerdir = `lowerdir=${dirs.lowers.map((l) => checked('lowerdir', l).slice('lowerdir='.length)).join(':')}`;
  return [lowerdir, checked('upperdir', dirs.upper), checked('workdir', dirs.work), ...FIXED_OPTIONS].join(',');
}
