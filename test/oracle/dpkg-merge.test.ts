// The dpkg-status driver and the info/ verdicts against real dpkg: three roots made by dpkg --root from
// real .debs (the old base, the new base, the host's: the old base plus a package the host installed),
// their status files merged, and a root assembled the way the overlay would show it (the new base, the
// host's own files, the merged status, the info files the verdicts keep). dpkg must find it consistent.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { parseStatus, type StatusDb } from '../../src/merge/dpkg-db.js';
import { infoFollowStatus, type InfoVerdict } from '../../src/merge/dpkg-info.js';
import { mergeStatus } from '../../src/merge/dpkg-status.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { dpkg, dpkgRoot, repack } from './dpkg-tools.js';

const DATA = path.join(import.meta.dirname, 'data');
const DB = 'var/lib/dpkg';
let work: string;
const debs: Record<string, string> = {};

/** A toy package the new base adds, built with dpkg-deb. */
async function toyDeb(): Promise<string> {
  const dir = path.join(work, 'so-base-extra');
  fs.mkdirSync(path.join(dir, 'DEBIAN'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'usr/share/so-base-extra'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'usr/share/so-base-extra/data'), 'base data\n');
  fs.writeFileSync(path.join(dir, 'DEBIAN/control'), 'Package: so-base-extra\nVersion: 1.0\nArchitecture: all\nMaintainer: Test <test@example.org>\nDescription: a package only the new base has\n');
  const deb = path.join(work, 'so-base-extra_1.0_all.deb');
  await run('dpkg-deb', ['--root-owner-group', '--build', dir, deb]);
  return deb;
}

beforeAll(async () => {
  work = scratch('so-oracle-dpkg-merge-');
  const names = { nr3: 'needrestart_3.6-4+deb12u3_all.deb', nr4: 'needrestart_3.6-4+deb12u4_all.deb', pg1: 'postgresql-common_248+deb12u1_all.deb', pg2: 'postgresql-common_248+deb12u2_all.deb' };
  for (const [k, deb] of Object.entries(names)) debs[k] = await repack(path.join(DATA, deb), work);
  debs.extra = await toyDeb();
});
afterAll(async () => {
  await removeTree(work);
});

/** A root dpkg installed each group of .debs into, one dpkg run per group. */
async function root(name: string, ...installs: string[][]): Promise<string> {
  const r = dpkgRoot(path.join(work, name));
  for (const group of installs) await dpkg(r, '-i', ...group.map((k) => debs[k]!));
  return r;
}

const entries = (dir: string): string[] => (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
const exists = (f: string) => fs.lstatSync(f, { throwIfNoEntry: false }) !== undefined;
const same = (a: string, b: string) => exists(b) && fs.readFileSync(a).equals(fs.readFileSync(b));
const status = (r: string) => fs.readFileSync(path.join(r, DB, 'status'));
const db = (b: Buffer): StatusDb => {
  const p = parseStatus(b, 'test');
  if (p.kind !== 'parsed') throw new Error(p.problems.join('; '));
  return p.db;
};

/** The info/ names in the host's upper: files it added or changed, and whiteouts (null) for those it removed. */
function infoUpper(b0: string, u: string): Map<string, 'file' | 'whiteout'> {
  const [o, h] = [path.join(b0, DB, 'info'), path.join(u, DB, 'info')];
  const out = new Map<string, 'file' | 'whiteout'>();
  for (const f of fs.readdirSync(h)) if (!same(path.join(h, f), path.join(o, f))) out.set(f, 'file');
  for (const f of fs.readdirSync(o)) if (!exists(path.join(h, f))) out.set(f, 'whiteout');
  return out;
}

/**
 * The merged view: the new base; the host's files no base has (a path the new base ships is the base's);
 * the merged status; each upper info/ entry applied where `verdict` keeps it.
 */
function assemble(name: string, b0: string, b1: string, u: string, merged: Buffer, verdict: (f: string) => InfoVerdict | undefined): string {
  const r = path.join(work, name);
  fs.cpSync(b1, r, { recursive: true, verbatimSymlinks: true });
  for (const f of entries(u)) {
    if (f.startsWith(`${DB}/`) || exists(path.join(b0, f)) || exists(path.join(b1, f))) continue;
    if (fs.lstatSync(path.join(u, f)).isDirectory()) fs.mkdirSync(path.join(r, f), { mode: fs.statSync(path.join(u, f)).mode });
    else fs.cpSync(path.join(u, f), path.join(r, f), { verbatimSymlinks: true, preserveTimestamps: true });
  }
  fs.writeFileSync(path.join(r, DB, 'status'), merged);
  for (const [f, kind] of infoUpper(b0, u)) {
    if (verdict(f) !== 'keep') continue;
    if (kind === 'file') fs.copyFileSync(path.join(u, DB, 'info', f), path.join(r, DB, 'info', f));
    else fs.rmSync(path.join(r, DB, 'info', f));
  }
  return r;
}

/** The merge of the three roots' status files and the verdicts for the host's info/ entries. */
function merge(b0: string, b1: string, u: string) {
  const m = mergeStatus(status(b0), status(b1), status(u));
  if (m.kind !== 'merged') throw new Error(m.conflicts.join('; '));
  const verdicts = infoFollowStatus({ b0: db(status(b0)), b1: db(status(b1)), upper: db(status(u)), merged: m.db }, [...infoUpper(b0, u).keys()]);
  return { ...m, verdicts };
}

const audit = async (r: string) => (await dpkg(r, '--audit')).stdout;
/** dpkg --verify's report (its exit status is 1 when it has one). */
const verify = async (r: string, pkg: string) => (await tryRun('dpkg', [`--root=${r}`, '--verify', pkg])).stdout;
const installed = async (r: string) => (await run('dpkg-query', [`--root=${r}`, '-W'])).stdout.split('\n');

describe('oracle: dpkg reads the merged database', () => {
  it("the base upgrades needrestart and adds a package; the host installed postgresql-common: dpkg finds all three, consistent", async () => {
    const [b0, b1, u] = [await root('b0', ['nr3']), await root('b1', ['nr4', 'extra']), await root('u', ['nr3'], ['pg1'])];
    const m = merge(b0, b1, u);
    expect(m.baseWon).toEqual([]);
    expect(Object.fromEntries(m.verdicts)).toEqual({ 'postgresql-common.conffiles': 'keep', 'postgresql-common.list': 'keep', 'postgresql-common.md5sums': 'keep' });
    const r = assemble('merged-1', b0, b1, u, m.content, (f) => m.verdicts.get(f));
    expect(await audit(r)).toBe('');
    expect(await installed(r)).toEqual(['needrestart\t3.6-4+deb12u4', 'postgresql-common\t248+deb12u1', 'so-base-extra\t1.0']);
    expect(await verify(r, 'postgresql-common')).toBe('');
    expect(await verify(r, 'needrestart')).toBe('');
    // dpkg rewriting the database (a new file renamed over it) leaves the merged bytes as they are: its
    // order (postgresql-common before the base's so-base-extra) and its format.
    const ino = fs.statSync(path.join(r, DB, 'status')).ino;
    await run('dpkg', [`--root=${r}`, '--log=/dev/null', '--set-selections'], { input: 'needrestart install\n' });
    expect(fs.statSync(path.join(r, DB, 'status')).ino).not.toBe(ino);
    expect(status(r).toString('latin1')).toBe(m.content.toString('latin1'));
    expect(m.content.equals(status(b1)) || m.content.equals(status(u))).toBe(false);
    // The same root with the host's info files dropped: dpkg notices, so the clean audit above says something.
    const wrong = assemble('wrong-1', b0, b1, u, m.content, () => 'drop');
    expect(await audit(wrong)).toContain('missing the list control file');
  });

  it("the base ships the host's package at another version: the base's wins, is reported, and dpkg finds it consistent", async () => {
    const [b0, b1, u] = [await root('b0-2', ['nr3']), await root('b1-2', ['nr4', 'pg2']), await root('u-2', ['nr3'], ['pg1'])];
    const m = merge(b0, b1, u);
    expect(m.baseWon).toEqual(['postgresql-common:all']);
    expect([...m.verdicts.values()]).toEqual(['drop', 'drop', 'drop']);
    const r = assemble('merged-2', b0, b1, u, m.content, (f) => m.verdicts.get(f));
    expect(await audit(r)).toBe('');
    expect(await installed(r)).toEqual(['needrestart\t3.6-4+deb12u4', 'postgresql-common\t248+deb12u2']);
    expect(await verify(r, 'postgresql-common')).toBe('');
    // Keeping the host's info files instead: dpkg --verify finds the base's files do not match them.
    const wrong = assemble('wrong-2', b0, b1, u, m.content, () => 'keep');
    expect(await verify(wrong, 'postgresql-common')).toMatch(/^\?\?5\?\?\?\?\?\? {3}\/usr\/share\/doc\/postgresql-common\/changelog\.gz$/m);
  });
});
