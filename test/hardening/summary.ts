// Records of the hardening cases (category, case, entries checked, entries lost) and the printed summary.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SUMMARY_FILE = path.join(os.tmpdir(), 'state-overlay-hardening-summary.txt');

export const CATEGORIES = ['hostile trees', 'swap attacks', 'disk faults', 'kill -9', 'corrupt state', 'concurrency', 'privileges and paths', 'fault sweep'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface CaseRecord {
  readonly category: Category;
  readonly name: string;
  readonly checked: number;
  readonly lost: number;
}

/** Appends a record to this worker's file in dir (one JSON object per line). */
export function appendRecord(dir: string, r: CaseRecord): void {
  fs.appendFileSync(path.join(dir, `${process.pid}.jsonl`), JSON.stringify(r) + '\n');
}

export function readRecords(dir: string): CaseRecord[] {
  const out: CaseRecord[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) if (line) out.push(JSON.parse(line) as CaseRecord);
  }
  return out;
}

export function renderSummary(records: readonly CaseRecord[]): string {
  const rows = CATEGORIES.map((c) => {
    const rs = records.filter((r) => r.category === c);
    return [c, rs.length, rs.reduce((n, r) => n + r.checked, 0), rs.reduce((n, r) => n + r.lost, 0)] as const;
  });
  const total = ['total', records.length, records.reduce((n, r) => n + r.checked, 0), records.reduce((n, r) => n + r.lost, 0)] as const;
  const line = (r: readonly [string, number, number, number]) => `${r[0].padEnd(22)}${String(r[1]).padStart(7)}${String(r[2]).padStart(18)}${String(r[3]).padStart(15)}`;
  const lostCases = records.filter((r) => r.lost > 0).map((r) => `  LOST ${r.lost} in ${r.category}: ${r.name}\n`).join('');
  return [
    'state-overlay hardening summary',
    `${'category'.padEnd(22)}${'cases'.padStart(7)}${'entries checked'.padStart(18)}${'entries lost'.padStart(15)}`,
    ...rows.map(line),
    line(total),
  ].join('\n') + '\n' + lostCases;
}
