// The text driver, table-tested, with git merge-file as the oracle on every case.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { textMerge } from '../../src/merge/text.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-merge-text-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `git merge-file -p UPPER B0 B1`: its output and whether it merged cleanly (exit 0). */
function gitMerge(b0: string, b1: string, upper: string): { clean: boolean; out: string } {
  const f = (n: string, s: string) => {
    const p = path.join(dir, n);
    fs.writeFileSync(p, s, 'latin1');
    return p;
  };
  const r = spawnSync('git', ['merge-file', '-p', f('upper', upper), f('b0', b0), f('b1', b1)], { encoding: 'latin1' });
  if (r.status === null || r.status < 0) throw new Error(`git merge-file failed: ${r.stderr}`);
  return { clean: r.status === 0, out: r.stdout };
}

const L = (...lines: string[]) => lines.map((l) => `${l}\n`).join('');
const base = L('a', 'b', 'c', 'd', 'e', 'f', 'g');

// [case, B0, B1, upper, merged (undefined: a conflict)]
const CASES: ReadonlyArray<readonly [string, string, string, string, string | undefined]> = [
  ['edits far apart', base, L('A', 'b', 'c', 'd', 'e', 'f', 'g'), L('a', 'b', 'c', 'd', 'e', 'f', 'G'), L('A', 'b', 'c', 'd', 'e', 'f', 'G')],
  ['edit at the start and a line added at the end', base, L('a0', 'a', 'b', 'c', 'd', 'e', 'f', 'g'), L('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), L('a0', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h')],
  ['the same edit on both sides', base, L('a', 'b', 'C', 'd', 'e', 'f', 'g'), L('a', 'b', 'C', 'd', 'e', 'f', 'g'), L('a', 'b', 'C', 'd', 'e', 'f', 'g')],
  ['only the base changed', base, L('a', 'b', 'c', 'D', 'e', 'f', 'g'), base, L('a', 'b', 'c', 'D', 'e', 'f', 'g')],
  ['only the host changed', base, base, L('a', 'x', 'c', 'd', 'e', 'f', 'g'), L('a', 'x', 'c', 'd', 'e', 'f', 'g')],
  ['a line removed by the host, another by the base', base, L('a', 'b', 'c', 'd', 'e', 'g'), L('b', 'c', 'd', 'e', 'f', 'g'), L('b', 'c', 'd', 'e', 'g')],
  ['CRLF kept', 'a\r\nb\r\nc\r\nd\r\ne\r\n', 'A\r\nb\r\nc\r\nd\r\ne\r\n', 'a\r\nb\r\nc\r\nd\r\nE\r\n', 'A\r\nb\r\nc\r\nd\r\nE\r\n'],
  ['no trailing newline kept', 'a\nb\nc\nd\ne', 'A\nb\nc\nd\ne', 'a\nb\nc\nd\ne\nf', 'A\nb\nc\nd\ne\nf'],
  ['bytes past ASCII kept', L('caf\xe9', 'b', 'c', 'd'), L('caf\xe9', 'b', 'c', 'D'), L('CAF\xc9', 'b', 'c', 'd'), L('CAF\xc9', 'b', 'c', 'D')],
  ['overlapping edits', base, L('a', 'b', 'X', 'd', 'e', 'f', 'g'), L('a', 'b', 'Y', 'd', 'e', 'f', 'g'), undefined],
  ['the host emptied the file the base edited', base, L('a', 'b', 'c', 'D', 'e', 'f', 'g'), '', undefined],
  ['the base emptied the file the host edited', base, '', L('a', 'b', 'c', 'D', 'e', 'f', 'g'), undefined],
  ['both appended different lines', base, base + L('base'), base + L('host'), undefined],
];

describe('textMerge', () => {
  it.each(CASES)('%s', (_, b0, b1, upper, want) => {
    const got = textMerge(Buffer.from(b0, 'latin1'), Buffer.from(b1, 'latin1'), Buffer.from(upper, 'latin1'));
    const git = gitMerge(b0, b1, upper);
    if (want === undefined) {
      expect(got.kind).toBe('conflict');
      expect(git.clean, 'git merge-file also conflicts').toBe(false);
    } else {
      expect(got).toEqual({ kind: 'merged', content: Buffer.from(want, 'latin1') });
      expect(git).toEqual({ clean: true, out: want });
    }
  });

  it('names each conflicting hunk by its lines on every side', () => {
    const got = textMerge(Buffer.from(base), Buffer.from(L('a', 'b', 'X', 'd', 'e', 'f', 'g')), Buffer.from(L('a', 'b', 'Y', 'Z', 'e', 'f', 'g')));
    expect(got).toEqual({ kind: 'conflict', conflicts: ["both changed lines 3-4 of the old base: the host's copy has lines 3-4, the new base lines 3-4"] });
  });

  it('never merges binary content', () => {
    const got = textMerge(Buffer.from('a\0\nb\n'), Buffer.from('a\0\nB\n'), Buffer.from('A\0\nb\n'));
    expect(got).toEqual({ kind: 'conflict', conflicts: ['binary content (a NUL byte in the old base, the new base, the host\'s copy): never merged'] });
  });
});
