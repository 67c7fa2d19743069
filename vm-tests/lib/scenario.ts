// What a scenario file declares: named base disks or root images, and numbered phases, one boot each.
import type { BaseSpec } from './bases.js';
import type { SlotSpec } from './slot-image.js';

export interface Phase {
  /** Short description, shown in reports. */
  readonly name: string;
  /** Which of the scenario's bases is attached as the /opt base disk on this boot (none: no base disk). */
  readonly base?: string;
  /** Which of the scenario's slots boots (its root image, read-only); without: the suite's guest image. */
  readonly slot?: string;
  /**
   * Which of the scenario's bases the host directory shared over virtio-fs (tag `so-share`) holds on
   * this boot: before the boot the driver changes the directory in place to it (lib/bases.ts' updateTree).
   */
  readonly share?: string;
  /** Bash run by the agent after boot; it sources lib.sh, asserts, and ends with `finish`. */
  readonly script?: string;
  /** Power cut: QEMU is killed as soon as the console shows this text (a script, if any, runs until then). */
  readonly cutOn?: string;
  /** More kernel command line words for this boot only (e.g. `systemd.setenv=VAR=value` for every unit). */
  readonly kernelArgs?: readonly string[];
  readonly timeoutMs?: number;
}

export interface Scenario {
  readonly name: string;
  readonly bases?: Readonly<Record<string, BaseSpec>>;
  /** Root images of its own (A/B slots, lib/slot-image.ts); the /var disk they share starts as the first one's. */
  readonly slots?: Readonly<Record<string, SlotSpec>>;
  readonly phases: readonly Phase[];
}

/** Marker a guest-side watcher writes to the console when a reconcile is in flight. */
export const RECONCILE_IN_FLIGHT = '@@VM reconcile-in-flight@@';

/** Marker a guest-side watcher writes to the console when the product stopped at its test-only fault point. */
export const AT_FAULT_POINT = '@@VM at-fault-point@@';
