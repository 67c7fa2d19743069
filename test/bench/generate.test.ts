// The bench generator's shape on tiny trees, and the JSON/table writers (no timings asserted).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getAttributeSync } from 'fs-xattr';
import { afterAll, describe, expect, it } from 'vitest';
import { planBase } from '../../bench/base-plan.js';
import { figure } from '../../bench/figure.js';
import { generateBase, generateUpper } from '../../bench/generate.js';
import { planUpper } from '../../bench/upper-plan.js';
import { renderNotes, renderTable, toJson, writeJson } from '../../bench/report.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gen-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every entry below dir (dir excluded), as binary-string relative paths. */
function listTree(dir: Buffer, rel = ''): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir, { encoding: 'buffer' })) {
    const p = rel === '' ? name.toString('latin1') : `${rel}/${name.toString('latin1')}`;
    out.push(p);
    const full = Buffer.concat([dir, Buffer.from('/'), name]);
    if (fs.lstatSync(full).isDirectory()) out.push(...listTree(full, p));
  }
  return out;
}

describe('planBase', () => {
  const params = { entries: 2000, bytes: 20_000_000, seed: 3 };
  const plan = planBase(params);

  it('is deterministic for a seed and differs across seeds', () => {
    expect(planBase(params)).toEqual(plan);
    expect(planBase({ ...params, seed: 4 }).entries.map((e) => e.path)).not.toEqual(plan.entries.map((e) => e.path));
  });

  it('has the requested entry count, byte budget and a realistic mix', () => {
    const count = (k: string) => plan.entries.filter((e) => e.kind === k).length;
    expect(plan.entries).toHaveLength(2000);
    expect(Math.abs(plan.bytes - params.bytes) / params.bytes).toBeLessThan(0.15);
    expect([count('dir'), count('symlink'), count('hardlink')]).toEqual([220, 100, 10]);
    const sizes = plan.entries.flatMap((e) => (e.kind === 'file' ? [e.size] : [])).sort((a, b) => a - b);
    expect(sizes[sizes.length >> 1]).toBeLessThan(8192);
    expect(sizes.at(-1)).toBeGreaterThan(1024 * 1024);
  });

  it('names parents before children, each path once', () => {
    const seen = new Set<string>();
    for (const e of plan.entries) {
      const parent = e.path.slice(0, Math.max(0, e.path.lastIndexOf('/')));
      if (parent !== '') expect(seen.has(parent)).toBe(true);
      expect(seen.has(e.path)).toBe(false);
      seen.add(e.path);
    }
  });
});

describe('planUpper', () => {
  const base = planBase({ entries: 5000, bytes: 10_000_000, seed: 5 });

  it.each([100, 1000])('plans %i entries of every kind, parents first', (entries) => {
    const up = planUpper(base, { entries, seed: 2 });
    expect(up.entries.length).toBeGreaterThanOrEqual(entries);
    expect(up.entries.length).toBeLessThan(entries + 8);
    const total = Object.values(up.counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(up.entries.length);
    for (const k of ['state', 'shadow', 'merged-dir', 'whiteout'] as const) expect(up.counts[k]).toBeGreaterThan(0);
    const paths = new Set(up.entries.map((e) => e.path));
    expect(paths.size).toBe(up.entries.length);
    const seen = new Set<string>();
    for (const e of up.entries) {
      const parent = e.path.slice(0, Math.max(0, e.path.lastIndexOf('/')));
      if (parent !== '') expect(seen.has(parent)).toBe(true);
      seen.add(e.path);
    }
  });

  it('plans at least one opaque dir at 1000 entries', () => {
    expect(planUpper(base, { entries: 1000, seed: 2 }).counts['opaque-dir']).toBeGreaterThan(0);
  });
});

describe('generateBase / generateUpper', () => {
  it('writes exactly the planned trees, with raw-byte names, whiteouts and opaque dirs, and reuses them', async () => {
    const params = { entries: 3000, bytes: 8_000_000, seed: 7 };
    const g = await generateBase(tmp, params);
    expect(g.fresh).toBe(true);
    expect(listTree(Buffer.from(g.dir)).sort()).toEqual(g.plan.entries.map((e) => e.path).sort());
    expect((await generateBase(tmp, params)).fresh).toBe(false);

    const u = await generateUpper(tmp, g.plan, { entries: 1000, seed: 2 });
    expect(listTree(Buffer.from(u.dir)).sort()).toEqual(u.plan.entries.map((e) => e.path).sort());
    for (const e of u.plan.entries) {
      const p = Buffer.from(`${u.dir}/${e.path}`, 'latin1');
      const st = fs.lstatSync(p);
      if (e.kind === 'whiteout') expect([st.isCharacterDevice(), st.rdev]).toEqual([true, 0]);
      if (e.kind === 'opaque') expect(getAttributeSync(p.toString('latin1'), 'trusted.overlay.opaque').toString()).toBe('y');
      if (e.kind === 'file') expect([st.size, st.mode & 0o7777]).toEqual([e.size, e.mode]);
    }
  });
});

describe('report', () => {
  const f = figure({
    name: 'index',
    label: 'full index',
    floorLabel: 'find | xargs openssl',
    unit: 'ms',
    target: 1.3,
    samples: { value: [30, 10, 20], floor: [10, 10, 40] },
  });

  it('takes medians and their ratio', () => {
    expect([f.value, f.floor, f.ratio]).toEqual([20, 10, 2]);
  });

  it('writes {"figures": {NAME: {ratio, target, …}}}', () => {
    const info = { machine: 'm', quick: true, baseEntries: 20000, baseBytes: 1, reps: 3, totalSeconds: 9, load: [0.5, 1] as const };
    const file = path.join(tmp, 'out.json');
    writeJson(file, [f], info);
    const back = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(back).toEqual(JSON.parse(JSON.stringify(toJson([f], info))));
    expect(back.figures.index).toMatchObject({ ratio: 2, target: 1.3, met: false, value: 20, floor: 10, unit: 'ms' });
    expect(back.quick).toBe(true);
  });

  it('lists the notes of the figures that have one', () => {
    expect(renderNotes([f, { ...f, label: 're-index', note: '9 digests reused' }])).toBe('- re-index: 9 digests reused');
  });

  it('renders a Markdown table, escaping | inside cells', () => {
    expect(renderTable([f]).split('\n')[2]).toBe('| full index | 20.0 ms | find \\| xargs openssl | 10.0 ms | 2.00× | ≤ 1.3× | **no** |');
  });
});
