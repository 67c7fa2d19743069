// Sidecar names, in the package manager's own style (SuffixStyle=).
import type { SuffixStyle } from '../config/schema.js';
import type { RelPath } from '../model/entry.js';

export interface Suffixes {
  /** The new base content written beside a kept local file. */
  readonly fresh: string;
  /** The local file moved aside so that the new base shows. */
  readonly saved: string;
}

const STYLES: Record<SuffixStyle, Suffixes> = {
  rpm: { fresh: '.rpmnew', saved: '.rpmsave' },
  dpkg: { fresh: '.dpkg-dist', saved: '.dpkg-old' },
};

export const freshName = (p: RelPath, style: SuffixStyle): RelPath => p + STYLES[style].fresh;
export const savedName = (p: RelPath, style: SuffixStyle): RelPath => p + STYLES[style].saved;
