// Whether a boot that failed is QEMU's own fault, worth one more try: QEMU 7.2 under TCG aborts now and
// then (`msix_table_mmio_write: Assertion … failed`) before the guest runs. A failure once the guest has
// printed anything is the product's or the test's, and is never retried.
import type { BootResult } from './qemu.js';

/** The kernel's first line on the serial console: anything the guest prints comes after it. */
export const GUEST_STARTED = 'Linux version';

export interface RetryDecision {
  readonly retry: boolean;
  /** Why, for the test output. */
  readonly reason: string;
}

/** Decides from the console text (QEMU's stderr included) and how QEMU ended. */
export function retryDecision(consoleText: string, r: Pick<BootResult, 'outcome' | 'exitCode' | 'signal'>): RetryDecision {
  if (r.outcome !== 'exited') return { retry: false, reason: `boot ended by ${r.outcome}` };
  if (r.exitCode === 0 && r.signal === undefined) return { retry: false, reason: 'QEMU exited normally' };
  if (consoleText.includes(GUEST_STARTED)) return { retry: false, reason: 'the guest had started' };
  const assertion = /^.*Assertion .* failed.*$/m.exec(consoleText)?.[0];
  const how = assertion ?? (r.signal === undefined ? `exit ${r.exitCode ?? '?'}` : `signal ${r.signal}`);
  return { retry: true, reason: `QEMU died before the guest printed anything (${how.trim()})` };
}
