// Instance rules: which NAMEs (and so which mountpoints) state-overlay accepts.
import { StateOverlayError } from '../errors.js';
import { escapePath, normalizePath, unescapePath } from './escape.js';

export const STATE_ROOT = '/var/lib/state-overlay';

/** API filesystems and runtime dirs that must never be overlaid. */
const FORBIDDEN_TREES = ['/proc', '/sys', '/dev', '/run'];

function within(path: string, tree: string): boolean {
  return path === tree || path.startsWith(tree + '/');
}

/** Checks a mountpoint (already unescaped); returns it normalized or throws a usage error saying why. */
export function checkMountpoint(raw: string, what = 'mountpoint'): string {
  if (!raw.startsWith('/')) throw new StateOverlayError('usage', `${what} '${raw}' is relative: an absolute path is required`);
  if (raw.split('/').includes('..')) throw new StateOverlayError('usage', `${what} '${raw}' contains '..'`);
  const path = normalizePath(raw);
  if (path === '/') throw new StateOverlayError('usage', `${what} '/' cannot be overlaid: the root filesystem is not a valid target`);
  for (const tree of FORBIDDEN_TREES) {
    if (within(path, tree)) throw new StateOverlayError('usage', `${what} '${path}' lies in ${tree}, which cannot be overlaid`);
  }
  if (within(path, STATE_ROOT)) {
    throw new StateOverlayError('usage', `${what} '${path}' lies in the state directory ${STATE_ROOT}`);
  }
  if (within(STATE_ROOT, path)) {
    throw new StateOverlayError('usage', `${what} '${path}' contains the state directory ${STATE_ROOT}: the overlay would hide its own upper`);
  }
  return path;
}

export interface Instance {
  /** The NAME as given (systemd-escaped mountpoint). */
  readonly name: string;
  /** The unescaped, normalized mountpoint, e.g. `/opt`. */
  readonly mountpoint: string;
}

/** Parses a template instance NAME (`opt`, `usr-local`, `opt-my\x2dapp`) into its mountpoint. */
export function parseInstance(name: string): Instance {
  if (name === '' || name.includes('/')) {
    throw new StateOverlayError('usage', `NAME '${name}' is not a systemd-escaped path (use 'systemd-escape --path /opt' → 'opt')`);
  }
  let mountpoint: string;
  try {
    mountpoint = unescapePath(name);
  } catch (cause) {
    throw new StateOverlayError('usage', `NAME '${name}' is not a valid systemd-escaped path`, { cause });
  }
  const checked = checkMountpoint(mountpoint, `NAME '${name}': mountpoint`);
  if (escapePath(checked) !== name) {
    throw new StateOverlayError('usage', `NAME '${name}' is not in canonical form: expected '${escapePath(checked)}'`);
  }
  return Object.freeze({ name, mountpoint: checked });
}
