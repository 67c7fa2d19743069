// Path classes from the [Paths] globs: keep (declared state), config (with its policy) or default.
import picomatch from 'picomatch';
import type { ConfigPolicy, OverlayConfig } from '../config/schema.js';
import type { RelPath } from '../model/entry.js';

export interface PathClass {
  readonly cls: 'config' | 'default';
  /** The config policy (meaningful for the config class). */
  readonly policy: ConfigPolicy;
  /** The Keep= glob that declares the path state, which no reconcile touches. */
  readonly keep?: string;
}

function matchers(globs: readonly string[]): Array<[string, (s: string) => boolean]> {
  // flags 's': a name may hold a newline, which picomatch's globstar (built on '.') would not match.
  return globs.map((g) => [g, picomatch(g, { dot: true, flags: 's' })]);
}

/**
 * Classifies upper paths. Globs match the absolute host path (`${mountpoint}/${rel}`) as a binary string,
 * so a glob written in UTF-8 is compared byte for byte with the name. ConfigReplace wins over Config; Keep
 * is reported beside the class that would otherwise apply.
 */
export function pathClassifier(
  mountpoint: string,
  paths: OverlayConfig['paths'],
  /** Absolute paths (binary strings) that are config files by the package database (ConfigFrom=). */
  conffiles: ReadonlySet<string> = new Set(),
): (rel: RelPath) => PathClass {
  const prefix = Buffer.from(mountpoint.replace(/\/+$/, ''), 'utf8').toString('latin1');
  const bin = (globs: readonly string[]) => matchers(globs.map((g) => Buffer.from(g, 'utf8').toString('latin1')));
  const keep = bin(paths.keep);
  const replace = bin(paths.configReplace);
  const config = bin(paths.config);
  const text = (g: string) => Buffer.from(g, 'latin1').toString('utf8');
  const plain: PathClass = Object.freeze({ cls: 'default', policy: paths.configPolicy });
  return (rel) => {
    const abs = `${prefix}/${rel}`;
    const k = keep.find(([, m]) => m(abs));
    let c = plain;
    if (replace.some(([, m]) => m(abs))) c = { cls: 'config', policy: 'replace' };
    else if (conffiles.has(abs) || config.some(([, m]) => m(abs))) c = { cls: 'config', policy: paths.configPolicy };
    return k ? { ...c, keep: text(k[0]) } : c;
  };
}
