// `config`'s account of the package classes (ConfigFrom=): which database or manifest the current
// base's classes come from, and how many paths of each class it gives.
import fs from 'node:fs';
import { readClasses } from '../manifest/store.js';
import type { PackageClasses } from '../model/package-class.js';
import { readPackageDbs } from '../observe/package-db.js';
import type { Overlay } from '../overlay/overlay.js';
import { describeClass, usesDb } from '../plan/classes.js';

export interface ClassSummary {
  /** Where the classes were read: the shipped manifest, or the databases under the root. */
  readonly source: string;
  /** Databases read; null: a manifest older than classes. */
  readonly dbs: readonly string[] | null;
  /** Paths by class, as `describeClass` names it without the package (`dpkg conffile`, `rpm %ghost`). */
  readonly counts: Readonly<Record<string, number>>;
}

export async function classSummary(ov: Overlay): Promise<ClassSummary | null> {
  const { config, layout } = ov;
  const from = config.paths.configFrom;
  if (from === 'none') return null;
  const shipped = fs.existsSync(layout.shippedManifest);
  let classes: PackageClasses = shipped ? readClasses(layout.shippedManifest) : { dbs: null, byPath: new Map() };
  let source = `the shipped manifest ${layout.shippedManifest}`;
  if (!shipped || classes.dbs === null) {
    classes = await readPackageDbs(layout.root, config.path, from);
    source = `the package databases under ${layout.root}`;
  }
  const counts: Record<string, number> = {};
  for (const c of classes.byPath.values()) {
    if (!usesDb(from, c.db)) continue;
    const k = describeClass(c).replace(/ of .*$/, '');
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return { source, dbs: classes.dbs, counts };
}
