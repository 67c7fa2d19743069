// Renders figures as a Markdown table and as JSON ({"figures": {NAME: {ratio, target, …}}}).
import fs from 'node:fs';
import os from 'node:os';
import { passed, type Figure } from './figure.js';

export interface RunInfo {
  readonly machine: string;
  readonly quick: boolean;
  readonly baseEntries: number;
  readonly baseBytes: number;
  readonly reps: number;
  readonly totalSeconds: number;
  /** 1-minute load average at the start and at the end: other work on the machine skews the figures. */
  readonly load: readonly [number, number];
}

export const loadNow = (): number => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

export function machine(): string {
  const cpus = os.cpus();
  const gib = Math.round(os.totalmem() / 2 ** 30);
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${gib} GiB RAM, Linux ${os.release()}, Node ${process.version}`;
}

/** Table cells: a | inside a cell would end it. */
const cell = (s: string): string => s.replace(/\|/g, '\\|');
const num = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function renderTable(figs: readonly Figure[]): string {
  const rows = figs.map((f) => {
    const ok = passed(f);
    const verdict = ok === null ? '' : ok ? 'yes' : '**no**';
    return `| ${cell(f.label)} | ${num(f.value)} ${f.unit} | ${cell(f.floorLabel)} | ${num(f.floor)} ${f.unit} | ${f.ratio.toFixed(2)}× | ${f.target === null ? '—' : `≤ ${f.target}×`} | ${verdict} |`;
  });
  return [
    '| figure | median | floor | floor median | ratio | target | met |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export function toJson(figs: readonly Figure[], info: RunInfo): object {
  const figures: Record<string, object> = {};
  for (const f of figs) {
    figures[f.name] = {
      ratio: f.ratio,
      target: f.target,
      met: passed(f),
      value: f.value,
      floor: f.floor,
      unit: f.unit,
      label: f.label,
      floorLabel: f.floorLabel,
      samples: f.samples,
      ...(f.note === undefined ? {} : { note: f.note }),
    };
  }
  return { figures, ...info };
}

export function writeJson(file: string, figs: readonly Figure[], info: RunInfo): void {
  fs.writeFileSync(file, `${JSON.stringify(toJson(figs, info), null, 2)}\n`);
}

/** The figures' notes (what a reconcile did, how many digests were reused), one line each. */
export function renderNotes(figs: readonly Figure[]): string {
  return figs.flatMap((f) => (f.note === undefined ? [] : [`- ${f.label}: ${f.note}`])).join('\n');
}
