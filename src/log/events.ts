// The typed event vocabulary: every log record is one of these, never free text.

export type LogEvent =
  | { event: 'config.loaded'; name: string; files: readonly string[] }
  | { event: 'reconcile.start'; name: string; from: string | null; to: string; mode: string }
  | { event: 'reconcile.drop'; path: string; rule: number; reason: string; backup: string }
  | { event: 'reconcile.keep'; path: string; rule: number; reason: string; sidecar?: string }
  | { event: 'reconcile.sidecar'; path: string; rule: number; sidecar: string }
  /** Base files kept for later merges (manifest/pristine.ts). */
  | { event: 'run.pristine'; name: string; stored: number; bytes: number }
  /** A file replaced by its three-way merge; the host's version went to backup. */
  | { event: 'reconcile.merge'; path: string; rule: number; reason: string; driver: string; backup: string }
  | { event: 'reconcile.conflict'; path: string; rule: number | null; reason: string }
  /** An action of the journal set aside: its premise no longer held when it was carried out (nothing lost). */
  | { event: 'reconcile.skip'; path: string; rule: number | null; kind: string; reason: string }
  | { event: 'reconcile.done'; name: string; actions: number; dropped: number; kept: number; ms: number }
  | { event: 'reconcile.resume'; name: string; journal: string; done: number; total: number }
  | { event: 'reconcile.rename'; path: string; rule: number; reason: string; to: string }
  | { event: 'reconcile.attrs'; path: string; rule: number; reason: string; mode: string; uid: number; gid: number }
  | { event: 'reconcile.rmdir'; path: string; rule: number; reason: string }
  /** An entry a reset moved to its backup set (no rule: the operator asked for it). */
  | { event: 'reset.entry'; path: string; rule: null; reason: string; backup: string }
  | { event: 'reset.done'; name: string; moved: number; set: string | null }
  | { event: 'vacuum.done'; name: string; dropped: number; set: string | null }
  | { event: 'index.start'; root: string }
  | { event: 'index.done'; entries: number; hashedBytes: number; reusedDigests: number; ms: number }
  | { event: 'mount.done'; name: string; target: string; lower: string; upper: string; flattened?: { overlay: string; lowers: string[] } }
  | { event: 'mount.already'; name: string; target: string }
  | { event: 'unmount.done'; name: string; target: string; lazy: boolean }
  /**
   * ostree's upper adopted; `deployment`: the commit its user.ostree.deploymentcsum names (null: none);
   * `base`: that deployment's checkout, whose manifest is now the recorded base (null: not on disk).
   */
  | { event: 'migrate.ostree'; name: string; from: string; to: string; deployment: string | null; base: string | null }
  | { event: 'run.ready'; name: string; generation: string; reconciled: boolean; changed: boolean }
  | { event: 'run.manifest'; name: string; generation: string; file: string; entries: number; ms: number }
  | { event: 'watch.reload'; name: string; from: string | null; to: string }
  | { event: 'generation'; name: string; recorded: string | null; current: string }
  | { event: 'watch.change'; name: string; path: string }
  | { event: 'watch.deferred'; name: string; reason: string }
  | { event: 'backups.pruned'; name: string; set: string }
  | { event: 'restore.entry'; path: string; rule: number | null; reason: string; backup: string }
  | { event: 'restore.done'; name: string; set: string; restored: number }
  /** An entry a rollback brought back from the set of the reconcile away from the current generation (rule 11). */
  | { event: 'rollback.restore'; path: string; rule: number; reason: string; backup: string }
  | { event: 'rollback.found'; name: string; set: string; from: string; to: string }
  | { event: 'warning'; message: string; path?: string; rule?: number }
  /** The command's failure, as printed on stderr (the journal's failure record). */
  | { event: 'failed'; message: string; code: string; exitCode: number; path?: string };
