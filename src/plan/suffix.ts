// Sidecar names, in the package manager's own style (SuffixStyle=), and which paths may get them.
import type { SuffixStyle } from '../config/schema.js';
import { relPath, type RelPath } from '../model/entry.js';
import type { GenerationClasses } from '../model/package-class.js';
import { pathClassifier } from './classes.js';
import type { PlanConfig } from './types.js';

export interface Suffixes {
  /** The new base content written beside a kept local file. */
  readonly fresh: string;
  /** The local file moved aside so that the new base shows. */
  readonly saved: string;
  /** A host file moved aside for a config file the new base now ships (rule 6 under replace). */
  readonly orig: string;
}

const STYLES: Record<SuffixStyle, Suffixes> = {
  rpm: { fresh: '.rpmnew', saved: '.rpmsave', orig: '.rpmorig' },
  dpkg: { fresh: '.dpkg-dist', saved: '.dpkg-old', orig: '.dpkg-old' },
};

export const freshName = (p: RelPath, style: SuffixStyle): RelPath => relPath(p + STYLES[style].fresh);
export const savedName = (p: RelPath, style: SuffixStyle): RelPath => relPath(p + STYLES[style].saved);
export const origName = (p: RelPath, style: SuffixStyle): RelPath => relPath(p + STYLES[style].orig);

/**
 * The names a reconcile may write beside an upper path under this configuration: a config-class path's
 * sidecar, saved and orig names (Reconcile=changed only; Keep= paths are never touched). The observation reads
 * the current base there too, so the one planning pass sees a name the base ships.
 */
export function namesBeside(config: PlanConfig, classes?: GenerationClasses): (p: RelPath) => readonly RelPath[] {
  if (config.reconcile !== 'changed') return () => [];
  const classify = pathClassifier(config.path, config.paths, classes);
  const style = config.paths.suffixStyle;
  return (p) => {
    const c = classify(p);
    if (c.cls !== 'config' || c.keep !== undefined) return [];
    const names = [freshName(p, style), savedName(p, style), origName(p, style)];
    return [...new Set(names)];
  };
}
