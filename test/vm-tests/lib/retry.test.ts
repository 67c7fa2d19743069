import { describe, expect, it } from 'vitest';
import { retryDecision } from '../../../vm-tests/lib/retry.js';

const ABORT = 'qemu-system-x86_64: ../../hw/pci/msix.c:218: msix_table_mmio_write: Assertion `addr + size <= dev->msix_entries_nr * PCI_MSIX_ENTRY_SIZE\' failed.\n';
const BANNER = '[    0.000000] Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org)\n';

describe('retryDecision', () => {
  it.each([
    ['the msix assertion before any guest output', ABORT, { outcome: 'exited', exitCode: undefined, signal: 'SIGABRT' }, true,
      'QEMU died before the guest printed anything (qemu-system-x86_64: ../../hw/pci/msix.c:218: msix_table_mmio_write: Assertion `addr + size <= dev->msix_entries_nr * PCI_MSIX_ENTRY_SIZE\' failed.)'],
    ['any abort on an empty console', '', { outcome: 'exited', exitCode: undefined, signal: 'SIGABRT' }, true,
      'QEMU died before the guest printed anything (signal SIGABRT)'],
    ['a non-zero exit on an empty console', '', { outcome: 'exited', exitCode: 1, signal: undefined }, true,
      'QEMU died before the guest printed anything (exit 1)'],
    ['the same abort once the kernel printed its banner', BANNER + ABORT, { outcome: 'exited', exitCode: undefined, signal: 'SIGABRT' }, false,
      'the guest had started'],
    ['a normal poweroff', BANNER, { outcome: 'exited', exitCode: 0, signal: undefined }, false, 'QEMU exited normally'],
    ['a timeout with nothing printed', '', { outcome: 'timeout', exitCode: undefined, signal: 'SIGKILL' }, false, 'boot ended by timeout'],
    ['a power cut', '', { outcome: 'cut', exitCode: undefined, signal: 'SIGKILL' }, false, 'boot ended by cut'],
  ] as const)('%s', (_name, text, r, retry, reason) => {
    expect(retryDecision(text, r)).toEqual({ retry, reason });
  });
});
