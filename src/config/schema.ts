// The typed, validated configuration of one overlay (DESIGN section 7) and its defaults.

export type Mode = 'persistent' | 'ephemeral';
export const RECONCILE_MODES = ['changed', 'all', 'none'] as const;
export type ReconcileMode = (typeof RECONCILE_MODES)[number];
export type UnknownBase = 'prune' | 'keep';
/** What a reconcile does on a rollback to a generation it reconciled away from (plan/rollback.ts). */
export type Rollback = 'restore' | 'ignore';
export type ConfigPolicy = 'noreplace' | 'replace';
export type SuffixStyle = 'rpm' | 'dpkg';
export const CONFIG_MERGES = ['none', 'three-way'] as const;
export type ConfigMerge = (typeof CONFIG_MERGES)[number];
/** A `Merge=GLOB:DRIVER` entry: files matching glob are merged three ways by the named driver (src/merge/drivers.ts). */
export interface MergeRule {
  readonly glob: string;
  readonly driver: string;
}
export const CONFIG_FROM = ['none', 'dpkg', 'rpm', 'auto'] as const;
export type ConfigFrom = (typeof CONFIG_FROM)[number];
export type GenerationSource =
  | { readonly kind: 'auto' | 'tree' | 'ostree' | 'manifest' }
  | { readonly kind: 'command'; readonly command: string };

export interface OverlayConfig {
  readonly name: string;
  /** Mountpoint as the host sees it, e.g. `/opt`. */
  readonly path: string;
  /** Separate base directory (host view), or null: the mountpoint's own underlying directory. */
  readonly base: string | null;
  readonly mode: Mode;
  /** Mode=ephemeral: the size of its tmpfs, as tmpfs(5) takes it (`50%` of RAM, `512M`). */
  readonly ephemeralSize: string;
  readonly reconcile: ReconcileMode;
  readonly unknownBase: UnknownBase;
  readonly rollback: Rollback;
  readonly generation: GenerationSource;
  readonly paths: {
    readonly config: readonly string[];
    readonly configPolicy: ConfigPolicy;
    readonly configReplace: readonly string[];
    readonly configFrom: ConfigFrom;
    readonly suffixStyle: SuffixStyle;
    readonly keep: readonly string[];
    /** `three-way`: a config file both the host and the base changed is merged (the text driver) where that is clean. */
    readonly configMerge: ConfigMerge;
    readonly merge: readonly MergeRule[];
    /** Largest file (bytes) whose base content is kept for merges, and that is merged at all. */
    readonly mergeMaxSize: number;
  };
  readonly backups: { readonly keep: number };
  /** Files that were read, in order of application. */
  readonly sources: readonly string[];
}

export function defaultConfig(name: string, path: string): OverlayConfig {
  return {
    name,
    path,
    base: null,
    mode: 'persistent',
    // As systemd sizes /tmp: half of RAM at most, and the pages only as used.
    ephemeralSize: '50%',
    reconcile: 'changed',
    unknownBase: 'prune',
    rollback: 'restore',
    generation: { kind: 'auto' },
    paths: {
      config: [],
      configPolicy: 'noreplace',
      configReplace: [],
      configFrom: 'none',
      suffixStyle: 'rpm',
      keep: [],
      configMerge: 'none',
      merge: [],
      mergeMaxSize: 1 << 20,
    },
    backups: { keep: 5 },
    sources: [],
  };
}
