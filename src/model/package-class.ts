// A base path's class in the image's package database (dpkg conffiles, rpm file flags), as a manifest
// records it: the vocabulary shared by the database readers, the manifest and the planner.
import type { RelPath } from './entry.js';

export const PACKAGE_DBS = ['dpkg', 'rpm'] as const;
export type PackageDb = (typeof PACKAGE_DBS)[number];

export interface PackageClass {
  readonly db: PackageDb;
  /** The owning package's name. */
  readonly pkg: string;
  /** A dpkg conffile, an rpm %config. */
  readonly config: boolean;
  /** rpm %config(noreplace). */
  readonly noreplace: boolean;
  /** rpm %config(missingok): a deleted file stays deleted. */
  readonly missingok: boolean;
  /** rpm %ghost: owned, never written by the package manager. */
  readonly ghost: boolean;
  /** dpkg: a conffile of an earlier version that the installed one no longer ships (dpkg keeps it). */
  readonly obsolete: boolean;
}

/** The classes of one base generation: the databases that were read, and the class of each path they name. */
export interface PackageClasses {
  /** The databases read when the classes were recorded; null: not recorded (a manifest older than classes). */
  readonly dbs: readonly PackageDb[] | null;
  readonly byPath: ReadonlyMap<RelPath, PackageClass>;
}

/** The package classes a reconcile reads: the recorded generation's and the current base's, by path. */
export interface GenerationClasses {
  readonly b0: ReadonlyMap<RelPath, PackageClass>;
  readonly b1: ReadonlyMap<RelPath, PackageClass>;
}

export const NO_CLASSES: PackageClasses = Object.freeze({ dbs: null, byPath: new Map() });

/** Two owners of one path (rpm's shared files): config if either says so, the first owner named. */
export function mergeClass(a: PackageClass, b: PackageClass): PackageClass {
  return {
    ...a,
    config: a.config || b.config,
    noreplace: a.noreplace || b.noreplace,
    missingok: a.missingok || b.missingok,
    ghost: a.ghost && b.ghost,
    obsolete: a.obsolete && b.obsolete,
  };
}
