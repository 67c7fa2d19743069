// The docs' worked examples, run for real on a scratch --root: files written under a directory, and the
// CLI run on the root, which must succeed.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { cli } from '../cli/cli.js';

/** Writes each file (relative path → content) under dir, parents created. */
export function writeAll(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

/** `state-overlay --root ROOT -q ARGS…`, expected to exit 0; its stdout. */
export function okAt(root: string, args: string[]): string {
  const r = cli(['--root', root, '-q', ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
