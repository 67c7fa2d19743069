// The `text` merge driver: a line-based three-way merge (diff3, from node-diff3) of the host's copy and
// the new base against the old base, every byte kept as it was (line endings, a missing last newline).
import { diff3Merge } from 'node-diff3';
import type { MergeDriver } from './types.js';

/** Lines with their terminators kept, as latin1 strings: each byte is one char and maps back exactly. */
export function splitLines(b: Buffer): string[] {
  const s = b.toString('latin1');
  return s === '' ? [] : s.split(/(?<=\n)/);
}

/** 1-based inclusive line range of `n` lines from index `at` (an empty range names the line it precedes). */
const range = (at: number, n: number): string => (n === 0 ? `before line ${at + 1}` : n === 1 ? `line ${at + 1}` : `lines ${at + 1}-${at + n}`);

export const textMerge: MergeDriver = (b0, b1, upper) => {
  const binary = ([['the old base', b0], ['the new base', b1], ["the host's copy", upper]] as const).filter(([, b]) => b.includes(0));
  if (binary.length > 0) return { kind: 'conflict', conflicts: [`binary content (a NUL byte in ${binary.map(([n]) => n).join(', ')}): never merged`] };
  const out: string[] = [];
  const conflicts: string[] = [];
  for (const r of diff3Merge(splitLines(upper), splitLines(b0), splitLines(b1), { excludeFalseConflicts: true })) {
    if (r.ok) out.push(...r.ok);
    else if (r.conflict) {
      const c = r.conflict;
      conflicts.push(`both changed ${range(c.oIndex, c.o.length)} of the old base: the host's copy has ${range(c.aIndex, c.a.length)}, the new base ${range(c.bIndex, c.b.length)}`);
    }
  }
  return conflicts.length > 0 ? { kind: 'conflict', conflicts } : { kind: 'merged', content: Buffer.from(out.join(''), 'latin1') };
};
