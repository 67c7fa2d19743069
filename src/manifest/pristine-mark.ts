// Which configuration the pristine copies were kept for: a mark file in the store, named by a digest of
// the merge settings and classes that decide which files get a copy, and of the manifest they came from.
// An unchanged boot checks only that the mark exists (no manifest read), so copies are kept once after a
// merge driver is first configured, not at the next update only.
import path from 'node:path';
import { newSha256 } from '../hash.js';
import type { OverlayConfig } from '../config/schema.js';
import type { Layout } from '../paths/layout.js';

export const mergesConfigured = (config: Pick<OverlayConfig, 'paths'>): boolean => config.paths.configMerge !== 'none' || config.paths.merge.length > 0;

/** The mark of copies kept for this configuration from this manifest. */
export function pristineMark(layout: Layout, config: Pick<OverlayConfig, 'path' | 'paths'>, manifest: string): string {
  const key = newSha256().update(JSON.stringify([config.path, config.paths, path.basename(manifest)])).digest('hex').slice(0, 32);
  return path.join(layout.pristineDir, `.kept-${key}`);
}
