// What a scenario file declares: named base disks and numbered phases, one boot each.
import type { BaseSpec } from './bases.js';

export interface Phase {
  /** Short description, shown in reports. */
  readonly name: string;
  /** Which of the scenario's bases is attached as the /opt base disk on this boot. */
  readonly base: string;
  /**
   * Which of the scenario's bases the host directory shared over virtio-fs (tag `so-share`) holds on
   * this boot: before the boot the driver changes the directory in place to it (lib/bases.ts' updateTree).
   */
  readonly share?: string;
  /** Bash run by the agent after boot; it sources lib.sh, asserts, and ends with `finish`. */
  readonly script?: string;
  /** Power cut: QEMU is killed as soon as the console shows this text (a script, if any, runs until then). */
  readonly cutOn?: string;
  readonly timeoutMs?: number;
}

export interface Scenario {
  readonly name: string;
  readonly bases: Readonly<Record<string, BaseSpec>>;
  readonly phases: readonly Phase[];
}

/** Marker a guest-side watcher writes to the console when a reconcile is in flight. */
export const RECONCILE_IN_FLIGHT = '@@VM reconcile-in-flight@@';
