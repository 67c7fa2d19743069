// Three-way merges through the product: pristine copies kept when a manifest is recorded, the merge planned
// and journaled, the host's version in the backup set, conflicts falling back to ConfigPolicy=, rollbacks.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listSets } from '../../src/backups/sets.js';
import { run } from '../../src/exec.js';
import { memoryLog } from '../../src/log/logger.js';
import { indexOverlay } from '../../src/ops/index.js';
import { recordManifest } from '../../src/ops/record.js';
import { currentGeneration } from '../../src/observe/generation.js';
import { withSession } from '../../src/txn/session.js';
import { FAULT_ENV } from '../../src/txn/fault.js';
import { readJournal } from '../../src/txn/journal.js';
import { reconcileOverlay } from '../../src/ops/reconcile.js';
import { sha256 } from '../../src/tree/digest.js';
import { readState } from '../../src/state/state-file.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, writeTree } from './scratch.js';

let root: string;
beforeEach(() => {
  root = scratch('so-merge-');
});
afterEach(async () => {
  await removeTree(root);
});

const lines = (n: number, edit: Record<number, string> = {}) => Array.from({ length: n }, (_, i) => `${edit[i + 1] ?? `line ${i + 1}`}\n`).join('');

/** A base recorded by the product itself (its manifest and pristine copies), then the host's edits and a base update. */
/**
 * shipped: each base shipped with its manifest (index --ship, Generation=auto), as an image build does;
 * otherwise the host builds its manifests itself.
 */
async function merging(files: { base: string; host: string; next: string; name?: string }, paths: NonNullable<Parameters<typeof scratchOverlay>[1]>['paths'] = { config: ['/opt/etc/**'], configMerge: 'three-way' }, shipped = false) {
  // The generation is what ROOT/gen says: a rollback's base is the same generation as before, whatever its mtimes.
  const gen = path.join(root, 'gen');
  fs.writeFileSync(gen, 'g1\n');
  fs.writeFileSync(path.join(root, 'generation'), `#!/bin/sh\ncat ${gen}\n`, { mode: 0o755 });
  const s = scratchOverlay(root, shipped ? { paths } : { paths, generation: { kind: 'command', command: path.join(root, 'generation') } });
  const name = files.name ?? 'etc/app.conf';
  const ship = async () => void (shipped && (await indexOverlay(s.ov, memoryLog(), { ship: true })));
  await writeTree(s.ov.base, { [name]: files.base, 'etc/other.conf': 'other\n' });
  await ship();
  const first = await reconcileOverlay(s.ov, memoryLog());
  expect(first.upToDate).toBe(false);
  await writeTree(s.ov.layout.upper, { [name]: { file: files.host, mode: 0o640, uid: 7, gid: 8 } });
  fs.writeFileSync(path.join(s.ov.base, name), files.next);
  fs.writeFileSync(gen, 'g2\n');
  await ship();
  return { s, name, upper: path.join(s.ov.layout.upper, name), gen };
}

async function gitMerge(dir: string, host: string, base: string, next: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  for (const [n, c] of Object.entries({ host, base, next })) fs.writeFileSync(path.join(dir, n), c);
  // Without -p, git merges into its first file (its stdout would lose the last newline).
  await run('git', ['merge-file', ...['host', 'base', 'next'].map((n) => path.join(dir, n))]);
  return fs.readFileSync(path.join(dir, 'host'), 'utf8');
}

describe('ConfigMerge=three-way', () => {
  it('merges a config file both sides changed: merged in place, the host version in the backup set, journaled and logged', async () => {
    const files = { base: lines(6), host: lines(6, { 1: 'host edit' }), next: lines(6, { 6: 'base edit' }) };
    const { s, upper } = await merging(files);
    const log = memoryLog();
    const r = await reconcileOverlay(s.ov, log);
    expect(r).toMatchObject({ merged: 1, sidecars: 0, conflicts: 0 });
    const merged = fs.readFileSync(upper, 'utf8');
    expect(merged).toBe(lines(6, { 1: 'host edit', 6: 'base edit' }));
    expect(merged).toBe(await gitMerge(path.join(root, 'git'), files.host, files.base, files.next));
    // The host's mode and owner stay; no sidecar is written.
    const st = fs.statSync(upper);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 7, 8]);
    expect(fs.existsSync(`${upper}.rpmnew`)).toBe(false);
    const [set] = listSets(s.ov.layout);
    expect(fs.readFileSync(path.join(set!.dir, 'upper/etc/app.conf'), 'utf8')).toBe(files.host);
    expect(set!.index!.entries.map((e) => [e.path, e.rule])).toEqual([['etc/app.conf', 3]]);
    expect(set!.index!.wrote).toEqual([{ path: 'etc/app.conf', display: 'etc/app.conf', kind: 'merge', from: 'etc/app.conf' }]);
    expect(log.events.filter((e) => e.event === 'reconcile.merge')).toEqual([expect.objectContaining({ path: 'etc/app.conf', rule: 3, driver: 'text' })]);
    expect(readState(s.ov.layout)?.lastReconcile).toMatchObject({ merged: 1, backupSet: set!.name });
    // The staged result is not kept once the next base is recorded; the next base's content is.
    const kept = fs.readdirSync(s.ov.layout.pristineDir).filter((n) => !n.startsWith('.'));
    expect(kept).toHaveLength(2);
  });

  it('a conflict falls back to ConfigPolicy= (a sidecar) and lists the hunks', async () => {
    const files = { base: lines(4), host: lines(4, { 2: 'host' }), next: lines(4, { 2: 'base' }) };
    const { s, upper } = await merging(files);
    const r = await reconcileOverlay(s.ov, memoryLog());
    expect(r).toMatchObject({ merged: 0, sidecars: 1 });
    expect(fs.readFileSync(upper, 'utf8')).toBe(files.host);
    expect(fs.readFileSync(`${upper}.rpmnew`, 'utf8')).toBe(files.next);
    expect(r.plan.conflicts.map((c) => c.reason)).toEqual([expect.stringMatching(/^not merged \(text\): both changed line 2 of the old base: the host's copy has line 2, the new base line 2; modified config file/)]);
  });

  it('with ConfigPolicy=replace a conflict moves the host file aside as today', async () => {
    const files = { base: lines(3), host: lines(3, { 3: 'host' }), next: lines(3, { 3: 'base' }) };
    const { s, upper } = await merging(files, { config: ['/opt/etc/**'], configMerge: 'three-way', configPolicy: 'replace' });
    await reconcileOverlay(s.ov, memoryLog());
    expect(fs.existsSync(upper)).toBe(false);
    expect(fs.readFileSync(`${upper}.rpmsave`, 'utf8')).toBe(files.host);
  });

  it('binary files and files over MergeMaxSize= never merge', async () => {
    const bin = await merging({ base: 'a\0\nb\n', host: 'x\0\nb\n', next: 'a\0\nc\n' });
    const r = await reconcileOverlay(bin.s.ov, memoryLog());
    expect(r).toMatchObject({ merged: 0, sidecars: 1 });
    expect(r.plan.conflicts[0]!.reason).toMatch(/binary content/);
    await removeTree(root);
    root = scratch('so-merge-');
    const big = await merging({ base: lines(40), host: lines(40, { 1: 'h' }), next: lines(40, { 40: 'b' }) }, { config: ['/opt/etc/**'], configMerge: 'three-way', mergeMaxSize: 64 });
    const r2 = await reconcileOverlay(big.s.ov, memoryLog());
    expect(r2.merged).toBe(0);
    expect(r2.plan.conflicts[0]!.reason).toMatch(/no copy of the old base's content was kept/);
  });

  it('without a pristine copy (recorded before the driver applied) it says so and keeps the table', async () => {
    const files = { base: lines(5), host: lines(5, { 1: 'h' }), next: lines(5, { 5: 'b' }) };
    const { s } = await merging(files, { config: ['/opt/etc/**'] });
    const ov = { ...s.ov, config: { ...s.ov.config, paths: { ...s.ov.config.paths, configMerge: 'three-way' as const } } };
    const r = await reconcileOverlay(ov, memoryLog());
    expect(r).toMatchObject({ merged: 0, sidecars: 1 });
    expect(r.plan.conflicts[0]!.reason).toMatch(/^not merged \(text\): no copy of the old base's content was kept/);
  });

  it('enabled on a host whose base is recorded already: the copies are kept at the next start, once, and the update merges', async () => {
    const files = { base: lines(5), host: lines(5, { 1: 'h' }), next: lines(5, { 5: 'b' }) };
    const s = scratchOverlay(root, { paths: { config: ['/opt/etc/**'] } });
    await writeTree(s.ov.base, { 'etc/app.conf': files.base });
    await reconcileOverlay(s.ov, memoryLog());
    expect(fs.existsSync(s.ov.layout.pristineDir)).toBe(false);
    const ov = { ...s.ov, config: { ...s.ov.config, paths: { ...s.ov.config.paths, configMerge: 'three-way' as const } } };
    // What run does after its mount on an unchanged base: the generation is recorded, its copies are not.
    const start = async () => {
      const log = memoryLog();
      await withSession(ov, log, { offline: true }, async (sess) => void (await recordManifest(sess, await currentGeneration(ov), { baseDir: ov.base })));
      return log.events.filter((e) => e.event === 'run.pristine').length;
    };
    expect(await start()).toBe(1);
    expect(await start()).toBe(0);
    await writeTree(ov.layout.upper, { 'etc/app.conf': files.host });
    fs.writeFileSync(path.join(ov.base, 'etc/app.conf'), files.next);
    const r = await reconcileOverlay(ov, memoryLog());
    expect(r.merged).toBe(1);
  });

  it('the default (ConfigMerge=none) changes nothing: a sidecar, no pristine copies', async () => {
    const files = { base: lines(5), host: lines(5, { 1: 'h' }), next: lines(5, { 5: 'b' }) };
    const { s } = await merging(files, { config: ['/opt/etc/**'] });
    const r = await reconcileOverlay(s.ov, memoryLog());
    expect(r).toMatchObject({ merged: 0, sidecars: 1, conflicts: 0 });
    expect(fs.existsSync(s.ov.layout.pristineDir)).toBe(false);
  });

  it('a host copy that has the base change already is kept, not rewritten', async () => {
    const files = { base: lines(3), host: lines(3, { 1: 'h', 3: 'same' }), next: lines(3, { 3: 'same' }) };
    const { s, upper } = await merging(files);
    const ino = fs.statSync(upper).ino;
    const r = await reconcileOverlay(s.ov, memoryLog());
    expect(r).toMatchObject({ merged: 0, sidecars: 0, backupSet: null });
    expect(fs.statSync(upper).ino).toBe(ino);
    expect(r.plan.actions.find((a) => a.path === 'etc/app.conf')).toMatchObject({ kind: 'keep', rule: 3, reason: expect.stringContaining("the change is in the host's copy already") });
  });
});

describe('Merge=GLOB:DRIVER', () => {
  it.each([['host-built', false], ['shipped', true]])('merges a default-class file with the passwd driver: the host user and the base user both survive (%s manifests)', async (_m, shipped) => {
    const base = 'root:x:0:0:root:/root:/bin/sh\n';
    const files = { name: 'etc/passwd', base, host: `${base}alice:x:1000:1000::/home/alice:/bin/sh\n`, next: `${base}_svc:x:999:999::/:/usr/sbin/nologin\n` };
    const { s, upper } = await merging(files, { merge: [{ glob: '/opt/etc/passwd', driver: 'passwd' }] }, shipped as boolean);
    const r = await reconcileOverlay(s.ov, memoryLog());
    expect(r).toMatchObject({ merged: 1, to: expect.stringMatching(shipped ? /^manifest:/ : /^command:/) });
    expect(fs.readFileSync(upper, 'utf8')).toBe(`${base}_svc:x:999:999::/:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/sh\n`);
  });

  it('a UID collision is a conflict: the default class falls back to the table (the host file to backups), naming both entries', async () => {
    const base = 'root:x:0:0:root:/root:/bin/sh\n';
    const files = { name: 'etc/passwd', base, host: `${base}alice:x:1000:1000::/home/alice:/bin/sh\n`, next: `${base}bob:x:1000:1000::/home/bob:/bin/sh\n` };
    const { s, upper } = await merging(files, { merge: [{ glob: '/opt/etc/passwd', driver: 'passwd' }] });
    const r = await reconcileOverlay(s.ov, memoryLog());
    expect(r).toMatchObject({ merged: 0, dropped: 1 });
    expect(fs.existsSync(upper)).toBe(false);
    expect(r.plan.conflicts.map((c) => c.reason)).toEqual([expect.stringContaining("the host's alice and the new base's bob have the same id 1000")]);
  });
});

describe('a rollback after a merge', () => {
  it('puts the host version back and moves the merged file to the new set', async () => {
    const files = { base: lines(4), host: lines(4, { 1: 'h' }), next: lines(4, { 4: 'b' }) };
    const { s, upper, gen } = await merging(files);
    await reconcileOverlay(s.ov, memoryLog());
    expect(fs.readFileSync(upper, 'utf8')).toBe(lines(4, { 1: 'h', 4: 'b' }));
    fs.writeFileSync(path.join(s.ov.base, 'etc/app.conf'), files.base);
    fs.writeFileSync(gen, 'g1\n');
    const r = await reconcileOverlay(s.ov, memoryLog());
    expect(r).toMatchObject({ to: 'command:g1', plan: { rollbackSet: expect.any(String) } });
    expect(fs.readFileSync(upper, 'utf8')).toBe(files.host);
    // The merge's set, emptied by the rollback, is gone; the rollback's own holds the merged file.
    const sets = listSets(s.ov.layout);
    expect(sets.map((x) => x.name)).not.toContain(r.plan.rollbackSet);
    expect(sets).toHaveLength(1);
    expect(sets[0]!.index!.entries.map((e) => [e.path, e.rule])).toEqual([['etc/app.conf', 11]]);
    expect(fs.readFileSync(path.join(sets[0]!.dir, 'upper/etc/app.conf'), 'utf8')).toBe(lines(4, { 1: 'h', 4: 'b' }));
  });
});

describe('pristine copies shipped with the image (index --ship)', () => {
  it('are written beside the shipped manifest; the host keeps them, digest-checked', async () => {
    const s = scratchOverlay(root, { paths: { config: ['/opt/etc/**'], configMerge: 'three-way' } });
    await writeTree(s.ov.base, { 'etc/app.conf': lines(3), 'bin/tool': 'tool\n' });
    await indexOverlay(s.ov, memoryLog(), { ship: true });
    const shipped = s.ov.layout.shippedManifest.replace(/\.manifest$/, '.pristine');
    const digest = sha256(Buffer.from(lines(3)));
    expect(fs.readdirSync(shipped)).toEqual([digest]);
    // A shipped blob that does not have its name's digest is never taken: the base's bytes are.
    fs.writeFileSync(path.join(shipped, digest), 'forged\n');
    const r = await reconcileOverlay(s.ov, memoryLog());
    expect(r.upToDate).toBe(false);
    expect(fs.readFileSync(path.join(s.ov.layout.pristineDir, digest), 'utf8')).toBe(lines(3));
    // Shipping again replaces the store: the forged blob goes, the right one is written.
    await indexOverlay(s.ov, memoryLog(), { ship: true });
    expect(fs.readFileSync(path.join(shipped, digest), 'utf8')).toBe(lines(3));
  });
});

describe('merges from shipped manifests', () => {
  it('a base shipped with its manifest (index --ship) both times merges as a host-built one does', async () => {
    const s = scratchOverlay(root, { paths: { config: ['/opt/etc/**'], configMerge: 'three-way' } });
    await writeTree(s.ov.base, { 'etc/app.conf': lines(5) });
    await indexOverlay(s.ov, memoryLog(), { ship: true });
    await reconcileOverlay(s.ov, memoryLog());
    expect(readState(s.ov.layout)?.generation).toMatch(/^manifest:/);
    await writeTree(s.ov.layout.upper, { 'etc/app.conf': lines(5, { 1: 'host' }) });
    fs.writeFileSync(path.join(s.ov.base, 'etc/app.conf'), lines(5, { 5: 'base' }));
    await indexOverlay(s.ov, memoryLog(), { ship: true });
    const r = await reconcileOverlay(s.ov, memoryLog());
    expect(r).toMatchObject({ merged: 1, to: expect.stringMatching(/^manifest:/) });
    expect(fs.readFileSync(path.join(s.ov.layout.upper, 'etc/app.conf'), 'utf8')).toBe(lines(5, { 1: 'host', 5: 'base' }));
  });
});

describe('a merge whose staged content is gone when its journal runs', () => {
  it('is skipped with a warning, the host\'s file left in the upper as it was', async () => {
    const files = { base: lines(4), host: lines(4, { 1: 'h' }), next: lines(4, { 4: 'b' }) };
    const { s, upper } = await merging(files);
    // Stopped once the journal is durable, before any action; then the staged blob is lost.
    process.env[FAULT_ENV] = 'journal';
    await expect(reconcileOverlay(s.ov, memoryLog())).rejects.toThrow('(test-only fault point)');
    delete process.env[FAULT_ENV];
    const journal = readJournal(s.ov.layout)!;
    const merge = journal.plan.actions.find((a) => a.kind === 'merge')!;
    fs.rmSync(path.join(s.ov.layout.pristineDir, (merge as { digest: string }).digest));
    const log = memoryLog();
    const r = await reconcileOverlay(s.ov, log);
    expect(r.resumed).toBe(true);
    expect(fs.readFileSync(upper, 'utf8')).toBe(files.host);
    expect(log.events).toContainEqual(expect.objectContaining({ event: 'reconcile.skip', kind: 'merge', reason: expect.stringContaining("not merged, the host's file is left as it is") }));
  });
});
