// One overlay as every operation sees it: its NAME, its configuration and its on-disk layout, resolved once.
import type { OverlayConfig } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import type { Log } from '../log/logger.js';
import { layoutFor, underRoot, type Layout } from '../paths/layout.js';
import { parseInstance } from '../systemd/instance.js';

export interface Overlay {
  readonly name: string;
  readonly config: OverlayConfig;
  readonly layout: Layout;
  /** The base directory as seen on this machine (root-prefixed); the mountpoint itself when Base= is unset. */
  readonly base: string;
}

/** Resolves NAME under root: the instance checked, its configuration read, its layout laid out. */
export function resolveOverlay(root: string, name: string, log?: Log): Overlay {
  const instance = parseInstance(name);
  const config = loadConfig(root, instance);
  if (config.sources.length > 0) log?.debug({ event: 'config.loaded', name, files: config.sources });
  const layout = layoutFor(root, name, config.path, config.mode === 'ephemeral');
  const base = underRoot(root, config.base ?? config.path);
  return Object.freeze({ name, config, layout, base });
}
