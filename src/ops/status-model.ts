// The versioned Status model that `status --json` prints; docs/status.schema.json describes the same shape.
import type { UpperKind } from '../model/entry.js';
import type { ErrorCode } from '../errors.js';
import type { ReconcileSummary } from '../plan/summary.js';

export const STATUS_API_VERSION = 'state-overlay/v1';

export type MountState = 'mounted' | 'unmounted' | 'foreign';

export interface OverlayStatus {
  readonly name: string;
  /** The mountpoint as the host sees it (`/opt`). */
  readonly mountpoint: string;
  /** The mountpoint on this machine (root-prefixed under --root). */
  readonly target: string;
  /** The base directory on this machine. */
  readonly base: string;
  readonly mode: 'persistent' | 'ephemeral';
  readonly reconcile: 'changed' | 'all' | 'none';
  /** Configuration files read, in order (empty: defaults). */
  readonly configFiles: readonly string[];
  readonly mount: {
    readonly state: MountState;
    /** Whether the private read-only base bind is mounted. */
    readonly baseBind: boolean;
    /** Mounts below the base (a data volume): not part of it, the overlay's lower does not show them. */
    readonly submounts: readonly string[];
    /**
     * An overlay lazily detached from the mountpoint (or alive in another mount namespace) that processes
     * still hold: their writes still reach the upper, and run, reconcile and mount wait for them. null: none.
     */
    readonly detached: { readonly mountpoint: string; readonly holders: readonly DetachedHolder[] } | null;
    readonly upperdir: string;
    readonly workdir: string;
  };
  readonly generation: {
    /** The generation the upper was last reconciled against (state.json), or null. */
    readonly recorded: string | null;
    /** The base's generation now, or null when it cannot be determined (see error). */
    readonly current: string | null;
    readonly source: string | null;
    readonly error: string | null;
    /** Manifest file of the recorded generation, or null when none is kept. */
    readonly manifest: string | null;
  };
  readonly upper: {
    readonly exists: boolean;
    /** Upper entries by kind (DESIGN section 2). */
    readonly counts: Readonly<Record<UpperKind, number>>;
    /** Apparent size of the regular files in the upper. */
    readonly bytes: number;
    /** The same by kind: a regular file is state or shadow (a zero-size xattr whiteout adds 0). */
    readonly bytesByKind: Readonly<Record<UpperKind, number>>;
    /** Entries that could not be read. */
    readonly unreadable: number;
  };
  readonly lastReconcile: ReconcileSummary | null;
  readonly backups: {
    /** Backup set names, oldest first. */
    readonly sets: readonly string[];
    readonly keep: number;
  };
  /** Work that waits: each a short machine-readable token. */
  readonly pending: readonly PendingWork[];
}

export interface DetachedHolder {
  readonly pid: number;
  readonly command: string;
  /** How it holds the overlay: cwd, root, fd N, map. */
  readonly how: readonly string[];
}

export type PendingWork =
  /** A reconcile was interrupted: the next run finishes it first. */
  | 'journal'
  /** The base changed since the recorded generation: the next run (or reload) reconciles. */
  | 'reconcile'
  /** No manifest is kept for the recorded generation: the next reconcile applies UnknownBase= (rule 10). */
  | 'manifest'
  /** Upper entries use redirect or metacopy, which this tool's mounts never produce. */
  | 'foreign-entries'
  /** ConfigFrom= is set but the recorded manifest predates package classes: B0's config files come from globs only. */
  | 'classes';

/** An overlay whose configuration or state could not be read: the others are shown all the same. */
export interface StatusFailure {
  readonly name: string;
  /** The error's code (src/errors.ts), e.g. `config` or `corrupt`. */
  readonly code: ErrorCode;
  readonly error: string;
}

export interface Status {
  readonly apiVersion: typeof STATUS_API_VERSION;
  readonly overlays: readonly OverlayStatus[];
  /** Overlays that could not be read (status without NAME); none when omitted. */
  readonly failed?: readonly StatusFailure[];
}

