// observe() reads only what can change the plan: files whose size matches nothing stay unread, and
// the current base comes from its shipped manifest when its generation names one. On generated trees,
// the plans must equal those of fully hashed inputs read from the live base.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type OverlayConfig } from '../../src/config/schema.js';
import { buildManifest } from '../../src/manifest/build.js';
import { parseManifest } from '../../src/manifest/format.js';
import { manifestDigest, manifestPath, viewOf } from '../../src/manifest/store.js';
import { TREE_ROOT, isUnread, type BaseEntry, type UpperEntry } from '../../src/model/entry.js';
import { observe, type CurrentManifest, type PlanInputs } from '../../src/observe/inputs.js';
import { planReconcile, planVacuum } from '../../src/plan/plan.js';
import { namesBeside } from '../../src/plan/suffix.js';
import type { Plan, PlanConfig } from '../../src/plan/types.js';
import { digestEntry, lstatBeneath } from '../../src/tree/handles.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, writeTree, type Scratch, type Spec } from '../ops/scratch.js';
import { v1Bytes } from '../manifest/v1.js';

let top: string;
beforeAll(() => {
  top = scratch('so-inputs-');
});
afterAll(async () => {
  await removeTree(top);
});

/** A small deterministic generator (LCG): the same trees on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return { next, pick: <T,>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

// Contents of equal sizes with different bytes, so that size alone never decides.
const CONTENTS = ['a\n', 'b\n', 'aa\n', 'bb\n', 'cc\n', 'long content one\n', 'long content two\n', ''];
const NAMES = ['x', 'y', 'z.conf', 'w'];

type Tree = Record<string, Spec>;

function baseTree(r: ReturnType<typeof rng>): Tree {
  const t: Tree = {};
  for (const d of NAMES.slice(0, 3)) {
    t[d] = { dir: true };
    for (const n of NAMES) {
      const p = `${d}/${n}`;
      const roll = r.next();
      if (roll < 0.55) t[p] = r.pick(CONTENTS);
      else if (roll < 0.65) t[p] = { link: r.pick(['t1', 't2']) };
      else if (roll < 0.85) {
        t[p] = { dir: true };
        for (const m of NAMES.slice(0, 2)) if (r.next() < 0.7) t[`${p}/${m}`] = r.pick(CONTENTS);
      }
    }
  }
  return t;
}

/** The next base: some contents, modes and types changed, some paths removed or added. */
function nextBase(r: ReturnType<typeof rng>, v1: Tree): Tree {
  const t: Tree = {};
  const gone = new Set<string>();
  for (const [p, spec] of Object.entries(v1)) {
    if ([...gone].some((g) => p.startsWith(`${g}/`))) continue;
    const roll = r.next();
    if (roll < 0.1 && p.includes('/')) gone.add(p);
    else if (roll < 0.35 && typeof spec === 'string') t[p] = r.pick(CONTENTS);
    else if (roll < 0.4 && typeof spec === 'string') t[p] = { file: spec, mode: 0o600 };
    else if (roll < 0.45 && typeof spec === 'object' && 'dir' in spec && p.includes('/')) {
      gone.add(p);
      t[p] = r.pick(CONTENTS);
    } else t[p] = spec;
  }
  for (const d of NAMES.slice(0, 3)) if (r.next() < 0.5 && t[`${d}/new`] === undefined && t[d] !== undefined) t[`${d}/new`] = r.pick(CONTENTS);
  return t;
}

/** An upper over v1: copy-ups (kept or edited), whiteouts, opaque dirs, state, type changes. */
function upperTree(r: ReturnType<typeof rng>, v1: Tree, v2: Tree): Tree {
  const t: Tree = {};
  const hidden = new Set<string>();
  const paths = [...new Set([...Object.keys(v1), ...Object.keys(v2)])].sort();
  for (const p of paths) {
    if ([...hidden].some((h) => p.startsWith(`${h}/`))) continue;
    const spec = v1[p] ?? v2[p]!;
    const isDir = typeof spec === 'object' && 'dir' in spec;
    const roll = r.next();
    if (isDir) {
      if (roll < 0.15) {
        t[p] = { dir: true, opaque: true };
        hidden.add(p);
        if (r.next() < 0.6) t[`${p}/${r.pick(NAMES)}`] = r.pick(CONTENTS);
      } else if (roll < 0.75) t[p] = { dir: true };
      continue;
    }
    if (roll < 0.3) t[p] = typeof spec === 'string' ? spec : { link: 't1' };
    else if (roll < 0.55) t[p] = r.pick(CONTENTS);
    else if (roll < 0.62) t[p] = { whiteout: r.pick(['chardev', 'xattr'] as const) };
    else if (roll < 0.66) t[p] = { link: r.pick(['t1', 't3']) };
    else if (roll < 0.7) t[p] = { fifo: true };
  }
  for (const p of Object.keys(t)) {
    const dir = path.posix.dirname(p);
    if (dir !== '.' && t[dir] === undefined) t[dir] = { dir: true };
    if (r.next() < 0.15 && typeof t[p] === 'object' && 'dir' in (t[p] as object)) t[`${p}/state-${p.length}`] = r.pick(CONTENTS);
  }
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function buildCase(seed: number): Promise<{ s: Scratch; manifest: string }> {
  const r = rng(seed);
  const root = path.join(top, `case-${seed}`);
  const s = scratchOverlay(root);
  const v1 = baseTree(r);
  await writeTree(s.ov.base, v1);
  await s.record('gen1');
  const v2 = nextBase(r, v1);
  await writeTree(s.ov.layout.upper, upperTree(r, v1, v2));
  fs.rmSync(s.ov.base, { recursive: true });
  await writeTree(s.ov.base, v2);
  return { s, manifest: manifestPath(s.ov.layout, 'gen1') };
}

/** The same inputs with every digest the shortcut left out read from the live trees. */
function fullyHashed(inputs: PlanInputs, upperDir: string, baseDir: string): PlanInputs {
  const real = (root: string, e: BaseEntry): BaseEntry => (isUnread(e.digest) ? { ...e, digest: digestEntry(root, e.path, lstatBeneath(root, e.path)!) } : e);
  return {
    b0: inputs.b0,
    b1: viewOf([...inputs.b1.under(TREE_ROOT)].map((e) => real(baseDir, e))),
    upper: inputs.upper.map((e) => real(upperDir, e) as UpperEntry),
  };
}

/** The observation a reconcile of this configuration makes (the names beside its config paths read too). */
const gather = (upper: string, base: string, b0Manifest: string | null, subtrees: boolean, current: CurrentManifest | null = null, config?: PlanConfig): Promise<PlanInputs> =>
  observe({ upper, base, b0Manifest, subtrees, current, ...(config ? { besides: namesBeside(config) } : {}) });

const CONFIGS: Array<[string, Partial<OverlayConfig> & { paths?: Partial<OverlayConfig['paths']> }]> = [
  ['default class', {}],
  ['config noreplace, rpm', { paths: { ...defaultConfig('opt', '/opt').paths, config: ['/opt/**'], suffixStyle: 'rpm' } }],
  ['config noreplace, dpkg', { paths: { ...defaultConfig('opt', '/opt').paths, config: ['/opt/**'], suffixStyle: 'dpkg' } }],
  ['config replace', { paths: { ...defaultConfig('opt', '/opt').paths, configReplace: ['/opt/**'] } }],
  ['Reconcile=all', { reconcile: 'all' }],
];

describe('observe reads only what can change the plan', () => {
  const seeds = Array.from({ length: 16 }, (_, i) => i + 1);
  let unhashedSeen = 0;
  let sidecarsFilled = 0;

  it.each(seeds)('seed %i: same plans as full digests from the live base, and from the shipped manifest', async (seed) => {
    const { s, manifest } = await buildCase(seed);
    const { upper, base } = { upper: s.ov.layout.upper, base: s.ov.base };
    const shipped = path.join(s.root, 'shipped.manifest');
    await buildManifest(base, shipped);
    const current = { file: shipped, sha256: manifestDigest(shipped) };
    // Version 1 manifests (no table) are read whole: the same plans.
    const asV1 = (file: string) => (fs.writeFileSync(`${file}.v1`, v1Bytes(parseManifest(fs.readFileSync(file)))), `${file}.v1`);
    const currentV1 = { file: asV1(shipped), sha256: manifestDigest(`${shipped}.v1`) };
    for (const known of [manifest, asV1(manifest), null]) {
      for (const [, over] of CONFIGS) {
        const config = { ...defaultConfig('opt', '/opt'), ...over };
        const live = await gather(upper, base, known, true, null, config);
        const fromManifest = await gather(upper, base, known, true, current, config);
        expect(planReconcile({ ...(await gather(upper, base, known, true, currentV1, config)), config })).toEqual(planReconcile({ ...fromManifest, config }));
        const full = fullyHashed(live, upper, base);
        unhashedSeen += [...live.upper, ...live.b1.under(TREE_ROOT)].filter((e) => isUnread(e.digest)).length;
        const want = planReconcile({ ...full, config });
        const got: Plan = planReconcile({ ...live, config });
        sidecarsFilled += got.actions.filter((a) => a.kind === 'write-sidecar').length;
        expect(got).toEqual(want);
        expect(planReconcile({ ...fromManifest, config })).toEqual(want);
      }
    }
    const vacuum = await gather(upper, base, null, false);
    const config = defaultConfig('opt', '/opt');
    expect(planVacuum({ ...vacuum, config })).toEqual(planVacuum({ ...fullyHashed(vacuum, upper, base), config }));
  });

  it('the generated trees exercise the shortcut: unread files, and sidecars whose source was read for them', () => {
    expect(unhashedSeen).toBeGreaterThan(20);
    expect(sidecarsFilled).toBeGreaterThan(5);
  });
});

describe('observe with the shipped manifest', () => {
  it('refuses a manifest whose bytes are not the generation read before', async () => {
    const root = path.join(top, 'replaced');
    const s = scratchOverlay(root);
    await writeTree(s.ov.base, { 'a/f': 'v1\n' });
    await writeTree(s.ov.layout.upper, { 'a/f': 'edited\n' });
    const shipped = path.join(root, 'shipped.manifest');
    await buildManifest(s.ov.base, shipped);
    const sha256 = manifestDigest(shipped);
    fs.writeFileSync(path.join(s.ov.base, 'a/g'), 'new\n');
    await buildManifest(s.ov.base, shipped);
    await expect(gather(s.ov.layout.upper, s.ov.base, null, true, { file: shipped, sha256 })).rejects.toThrow(
      `${shipped}: not the manifest of generation manifest:${sha256} (changed since the generation was read)`,
    );
  });
});

describe('names beside an upper entry', () => {
  it.each([['the live base', false], ['the shipped manifest', true]] as const)('never writes a sidecar or saved name the base ships (%s)', async (_n, fromManifest) => {
    const root = path.join(top, `names-${String(fromManifest)}`);
    const s = scratchOverlay(root);
    await writeTree(s.ov.base, { 'etc/a.conf': 'v1\n', 'etc/a.conf.rpmnew': 'shipped by the base\n', 'etc/b.conf': 'v1\n', 'etc/b.conf.rpmsave': 'shipped too\n', 'etc/c.conf': 'v1\n' });
    await s.record('gen1');
    await writeTree(s.ov.layout.upper, { 'etc/a.conf': 'edited a\n', 'etc/b.conf': 'edited b\n', 'etc/c.conf': 'edited c\n' });
    for (const f of ['a', 'b', 'c']) fs.writeFileSync(path.join(s.ov.base, `etc/${f}.conf`), 'v2\n');
    const shipped = path.join(root, 'shipped.manifest');
    await buildManifest(s.ov.base, shipped);
    const current = fromManifest ? { file: shipped, sha256: manifestDigest(shipped) } : null;
    const d = defaultConfig('opt', '/opt');
    const config = { ...d, paths: { ...d.paths, config: ['/opt/etc/[ac].conf'], configReplace: ['/opt/etc/b.conf'], suffixStyle: 'rpm' as const } };
    const inputs = await gather(s.ov.layout.upper, s.ov.base, manifestPath(s.ov.layout, 'gen1'), true, current, config);
    const plan = planReconcile({ ...inputs, config });
    expect(plan.actions.filter((a) => a.kind !== 'keep').map((a) => `${a.kind} ${a.path}`)).toEqual(['write-sidecar etc/c.conf.rpmnew']);
    expect(plan.conflicts.map((c) => `${c.path}: ${c.reason}`)).toEqual([
      'etc/a.conf: sidecar "etc/a.conf.rpmnew" not written: the base ships that name',
      'etc/b.conf: saved name "etc/b.conf.rpmsave" not written: the base ships that name',
    ]);
  });
});
