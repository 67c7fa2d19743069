// Path classes: keep (declared state), config (with its policy) or default, from the [Paths] globs and
// from the package databases' classes of both generations (ConfigFrom=).
import picomatch from 'picomatch';
import type { ConfigFrom, ConfigPolicy, OverlayConfig } from '../config/schema.js';
import type { RelPath } from '../model/entry.js';
import type { GenerationClasses, PackageClass, PackageDb } from '../model/package-class.js';

export interface PathClass {
  readonly cls: 'config' | 'default';
  /** The config policy (meaningful for the config class). */
  readonly policy: ConfigPolicy;
  /** rpm %config(missingok): a deleted config file stays deleted. */
  readonly missingok?: true;
  /** Why the path is declared state, which no reconcile touches (`Keep=GLOB`, `rpm %ghost of PKG`). */
  readonly keep?: string;
  /** Where the config class came from (`Config=GLOB`, `dpkg conffile of PKG`, …). */
  readonly from?: string;
  /** The merge driver a changed file is merged with (`Merge=GLOB:DRIVER`, or `text` for a config file under ConfigMerge=three-way). */
  readonly merge?: string;
}

function matchers(globs: readonly string[]): Array<[string, (s: string) => boolean]> {
  // flags 's': a name may hold a newline, which picomatch's globstar (built on '.') would not match.
  return globs.map((g) => [g, picomatch(g, { dot: true, flags: 's' })]);
}

export const usesDb = (from: ConfigFrom, db: PackageDb): boolean => from === 'auto' || from === db;

/** How a package manager names the class: `dpkg conffile`, `rpm %config(noreplace,missingok)`, `rpm %ghost`. */
export function describeClass(c: PackageClass): string {
  if (c.db === 'dpkg') return `dpkg ${c.obsolete ? 'obsolete ' : ''}conffile of ${c.pkg}`;
  if (c.ghost) return `rpm %ghost of ${c.pkg}`;
  const opts = [c.noreplace ? 'noreplace' : '', c.missingok ? 'missingok' : ''].filter(Boolean);
  return `rpm %config${opts.length ? `(${opts.join(',')})` : ''} of ${c.pkg}`;
}

/**
 * The class a package database gives a path: a config file in either generation is one (the current
 * base's flags win where both name it, as rpm decides by the new package's flags); an rpm %ghost is
 * declared state (pathClassifier). dpkg conffiles follow ConfigPolicy=; rpm's plain %config is replace, as ConfigReplace=.
 */
function fromDb(c: PackageClass, policy: ConfigPolicy): PathClass | undefined {
  if (!c.config) return undefined;
  const from = describeClass(c);
  const p: ConfigPolicy = c.db === 'rpm' && !c.noreplace ? 'replace' : policy;
  return c.missingok ? { cls: 'config', policy: p, missingok: true, from } : { cls: 'config', policy: p, from };
}

/**
 * Classifies upper paths. Globs match the absolute host path (`${mountpoint}/${rel}`) as a binary string,
 * so a glob written in UTF-8 is compared byte for byte with the name. ConfigReplace wins over Config, and
 * both over the database; Keep is reported beside the class that would otherwise apply.
 */
export function pathClassifier(mountpoint: string, paths: OverlayConfig['paths'], classes?: GenerationClasses): (rel: RelPath) => PathClass {
  const prefix = Buffer.from(mountpoint.replace(/\/+$/, ''), 'utf8').toString('latin1');
  const bin = (globs: readonly string[]) => matchers(globs.map((g) => Buffer.from(g, 'utf8').toString('latin1')));
  const keep = bin(paths.keep);
  const replace = bin(paths.configReplace);
  const config = bin(paths.config);
  const merges = paths.merge.map((m) => [m.driver, picomatch(Buffer.from(m.glob, 'utf8').toString('latin1'), { dot: true, flags: 's' })] as const);
  const text = (g: string) => Buffer.from(g, 'latin1').toString('utf8');
  const plain: PathClass = Object.freeze({ cls: 'default', policy: paths.configPolicy });
  const db = (rel: RelPath): PackageClass | undefined => {
    if (!classes || paths.configFrom === 'none') return undefined;
    const ok = (c: PackageClass | undefined) => (c && usesDb(paths.configFrom, c.db) ? c : undefined);
    return ok(classes.b1.get(rel)) ?? ok(classes.b0.get(rel));
  };
  return (rel) => {
    const abs = `${prefix}/${rel}`;
    const k = keep.find(([, m]) => m(abs));
    const r = replace.find(([, m]) => m(abs));
    const g = r ? undefined : config.find(([, m]) => m(abs));
    const pkg = db(rel);
    let c = (pkg && fromDb(pkg, paths.configPolicy)) ?? plain;
    if (r) c = { cls: 'config', policy: 'replace', ...(c.missingok ? { missingok: true } : {}), from: `ConfigReplace=${text(r[0])}` };
    else if (g && c.cls !== 'config') c = { cls: 'config', policy: paths.configPolicy, from: `Config=${text(g[0])}` };
    const merge = merges.find(([, m]) => m(abs))?.[0] ?? (c.cls === 'config' && paths.configMerge === 'three-way' ? 'text' : undefined);
    if (merge !== undefined) c = { ...c, merge };
    const why = k ? `Keep=${text(k[0])}` : pkg?.ghost ? describeClass(pkg) : undefined;
    return why === undefined ? c : { ...c, keep: why };
  };
}
