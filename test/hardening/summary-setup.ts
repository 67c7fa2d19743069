// Global setup of the hardening suite's summary: a fresh directory the cases append their records to,
// read back at the end of the run and printed (and written to a file) as cases per category and entries lost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { renderSummary, readRecords, SUMMARY_FILE } from './summary.js';

declare module 'vitest' {
  export interface ProvidedContext {
    hardeningSummaryDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-hardening-summary-'));
  project.provide('hardeningSummaryDir', dir);
  return () => {
    const records = readRecords(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    if (records.length === 0) return;
    const text = renderSummary(records);
    fs.writeFileSync(SUMMARY_FILE, text);
    process.stdout.write(`\n${text}(written to ${SUMMARY_FILE})\n`);
  };
}
