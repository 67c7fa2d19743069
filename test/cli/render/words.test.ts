// Counts read as English in every human renderer: `1 sidecar`, `1 entry restored`, `0 warnings`.
import { describe, expect, it } from 'vitest';
import { indexText } from '../../../src/cli/render/index.js';
import { plural } from '../../../src/cli/render/words.js';
import type { IndexReport } from '../../../src/ops/index.js';

describe('plural', () => {
  it.each([
    [0, 'sidecar', undefined, '0 sidecars'],
    [1, 'sidecar', undefined, '1 sidecar'],
    [2, 'sidecar', undefined, '2 sidecars'],
    [1, 'entry', 'entries', '1 entry'],
    [3, 'entry', 'entries', '3 entries'],
  ])('plural(%i, %s, %s) = %s', (n, one, many, want) => expect(plural(n, one, many)).toBe(want));
});

describe('indexText', () => {
  const r = { manifest: '/m', entries: 1, hashedBytes: 60_000_000, reusedDigests: 1, ms: 5, generation: 'manifest:ab' } as IndexReport;

  it('gives the size in bytes for scripts and in binary units on a terminal', () => {
    expect(indexText(r)).toBe('/m: 1 entry, 60000000 bytes hashed, 1 digest reused (5 ms)\ngeneration manifest:ab');
    expect(indexText(r, true)).toBe('/m: 1 entry, 57.2 MiB hashed, 1 digest reused (5 ms)\ngeneration manifest:ab');
  });
});
