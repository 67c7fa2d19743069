import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATUS_API_VERSION, type Status } from '../../../src/ops/status-model.js';
import { fresh, mounted } from '../../ops/status-fixtures.js';
import { renderStatus } from '../../../src/cli/render/status.js';
import { formatBytes } from '../../../src/cli/render/words.js';

describe('renderStatus', () => {
  it('matches the golden human view', async () => {
    const status: Status = { apiVersion: STATUS_API_VERSION, overlays: [mounted, fresh] };
    await expect(renderStatus(status) + '\n').toMatchFileSnapshot(path.join(import.meta.dirname, 'golden/human.txt'));
  });

  it('says a changed base under Reconcile=none is never reconciled, and owes no manifest', () => {
    const changed = { ...mounted, generation: { ...mounted.generation, current: 'tree:abc' } };
    const line = (s: typeof mounted) => renderStatus({ apiVersion: STATUS_API_VERSION, overlays: [s] }).split('\n').find((l) => l.includes('generation:'))!;
    expect(line(changed)).toMatch(/, changed$/);
    expect(line({ ...changed, reconcile: 'none' })).toMatch(/, changed \(Reconcile=none: the upper is never reconciled\)$/);
  });

  it('says so when there is no overlay', () => {
    expect(renderStatus({ apiVersion: STATUS_API_VERSION, overlays: [] })).toBe('no overlays configured or recorded');
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [5_400_000, '5.1 MiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
  ])('formatBytes(%i) = %s', (n, want) => expect(formatBytes(n)).toBe(want));
});

