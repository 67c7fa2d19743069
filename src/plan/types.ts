// The plan model: what a reconcile will do to the upper, each step with its decision-table rule.
import type { OverlayConfig } from '../config/schema.js';
import type { GenerationClasses } from '../model/package-class.js';
import type { BaseView, EntryType, RelPath, UpperEntry, UpperKind } from '../model/entry.js';
import type { Rule } from '../model/rule.js';

export type { Rule } from '../model/rule.js';

export interface Step {
  readonly path: RelPath;
  /** null: no rule of the table decided it, the operator asked for it (`reset`). */
  readonly rule: Rule | null;
  readonly reason: string;
}

/** Move the upper entry at path (with its subtree) into the backup set. */
export interface MoveToBackups extends Step {
  readonly kind: 'move-to-backups';
  readonly entry: { readonly kind: UpperKind; readonly type: EntryType };
}
/** Rename the upper entry at path to `to` in the same directory (`.rpmsave`, `.dpkg-old`). */
export interface Rename extends Step {
  readonly kind: 'rename';
  readonly to: RelPath;
}
/** Copy the base entry at `from` into the upper at path (`.rpmnew`, `.dpkg-dist`). */
export interface WriteSidecar extends Step {
  readonly kind: 'write-sidecar';
  readonly from: RelPath;
  readonly type: 'file' | 'symlink';
  readonly digest: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}
/** Give an upper directory the base directory's mode and owner. */
export interface SetAttrs extends Step {
  readonly kind: 'set-attrs';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}
/** rmdir an upper directory the plan leaves empty and identical to the base. */
export interface RemoveEmptyDir extends Step {
  readonly kind: 'remove-empty-dir';
}
/**
 * Replace the upper file at path by the three-way merge of the old base, the new base and the host's copy
 * (`host`: the digest the plan was made with). The merged bytes (`digest`) are staged in the pristine store
 * before the journal; the host's version goes to the backup set.
 */
export interface MergeFile extends Step {
  readonly kind: 'merge';
  readonly driver: string;
  readonly digest: string;
  readonly host: string;
  readonly entry: { readonly kind: UpperKind; readonly type: 'file' };
}
/** A decision to leave the entry as it is, recorded for logs and dry runs. */
export interface Keep extends Step {
  readonly kind: 'keep';
  /** The sidecar written beside the kept entry, if any. */
  readonly sidecar?: RelPath;
}

/**
 * Move the entry at path back from the backup set into the upper (`restore`), its missing parents made
 * as copy-up makes them. rule: the rule under which it was dropped (`restore`), or 11 (a rollback, from the
 * plan's rollbackSet).
 */
export interface RestoreFromBackups extends Step {
  readonly kind: 'restore-from-backups';
}

export type Action = MoveToBackups | Rename | WriteSidecar | MergeFile | SetAttrs | RemoveEmptyDir | Keep | RestoreFromBackups;

/** Something the operator should look at; the entry is left as the accompanying action says. */
export type Conflict = Step;

export interface Plan {
  readonly actions: readonly Action[];
  readonly conflicts: readonly Conflict[];
  /** A rollback: the backup set its restore-from-backups actions come from (plan/rollback.ts). */
  readonly rollbackSet?: string;
}

/** What a reconcile wrote in the upper, as its backup set's index records it: a sidecar, a saved name, or a merged file. */
export interface Written {
  /** The name written: the sidecar (`.rpmnew`), the saved name (`.rpmsave`) an entry was renamed to, or a merged file. */
  readonly path: RelPath;
  readonly kind: 'sidecar' | 'rename' | 'merge';
  /** The entry it was written beside, or renamed from (a merged file: its own path). */
  readonly from: RelPath;
}

/** The backup set of the reconcile from the current generation to the recorded one, that a rollback undoes. */
export interface RollbackSource {
  readonly set: string;
  /** Its entries still held in its tree. */
  readonly entries: readonly RelPath[];
  readonly wrote: readonly Written[];
}

/** The configuration a plan depends on. */
export type PlanConfig = Pick<OverlayConfig, 'path' | 'reconcile' | 'unknownBase' | 'paths'>;

/**
 * What a three-way merge of one upper file would give (observe/merges.ts): the merged content's digest,
 * the conflicts that stop it, or why it could not be tried (no pristine copy of the old base, a size cap).
 */
export type MergeView = { readonly driver: string } & (
  /** host: the digest of the host's copy the merge was made from. */
  | { readonly kind: 'merged'; readonly digest: string; readonly host: string; readonly notes?: readonly string[] }
  | { readonly kind: 'conflict'; readonly conflicts: readonly string[] }
  | { readonly kind: 'unavailable'; readonly why: string }
);

export interface PlanInput {
  /** The recorded generation's manifest; null when there is none (rule 10). */
  readonly b0: BaseView | null;
  /** The current base. */
  readonly b1: BaseView;
  /** Every upper entry (pre-order or any order); digests filled in for non-directories over B0 or B1 paths. */
  readonly upper: readonly UpperEntry[];
  readonly config: PlanConfig;
  /** The package classes of both generations at the upper's paths (ConfigFrom=). */
  readonly classes?: GenerationClasses;
  /** The merges tried for upper files under a merge driver (ConfigMerge=, Merge=), by path. */
  readonly merges?: ReadonlyMap<RelPath, MergeView>;
  /** Upper entries (non-directories) that give way to the new base because a merge decided their owner, with why (rule 3). */
  readonly follow?: ReadonlyMap<RelPath, string>;
}
