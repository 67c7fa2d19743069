// The dpkg-status driver and the info/ verdicts against real dpkg: three roots made by dpkg --root from
// real .debs (the old base, the new base, the host's: the old base plus a package the host installed),
// their status files merged, and a root assembled the way the overlay would show it (the new base, the
// host's own files, the merged status, the info files the verdicts keep). dpkg must find it consistent.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tryRun } from '../../src/exec.js';
import { parseStatus, type StatusDb } from '../../src/merge/dpkg-db.js';
import { baseWonPaths, infoFollowStatus, type InfoVerdict } from '../../src/merge/dpkg-info.js';
import { mergeStatus } from '../../src/merge/dpkg-status.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { dpkg, dpkgRoot, repack, toyDeb } from './dpkg-tools.js';

const DATA = path.join(import.meta.dirname, 'data');
const DB = 'var/lib/dpkg';
let work: string;
const debs: Record<string, string> = {};

beforeAll(async () => {
  work = scratch('so-oracle-dpkg-merge-');
  const names = { nr3: 'needrestart_3.6-4+deb12u3_all.deb', nr4: 'needrestart_3.6-4+deb12u4_all.deb', pg1: 'postgresql-common_248+deb12u1_all.deb', pg2: 'postgresql-common_248+deb12u2_all.deb' };
  for (const [k, deb] of Object.entries(names)) debs[k] = await repack(path.join(DATA, deb), work);
  debs.extra = await toyDeb(work);
});
afterAll(async () => {
  await removeTree(work);
});

type Step = { readonly install: readonly string[] } | { readonly remove: string };

/** A root dpkg made by the steps, one dpkg run each. */
async function root(name: string, ...steps: Step[]): Promise<string> {
  const r = dpkgRoot(path.join(work, name));
  for (const step of steps) await ('install' in step ? dpkg(r, '-i', ...step.install.map((k) => debs[k]!)) : dpkg(r, '-r', step.remove));
  return r;
}

const entries = (dir: string): string[] => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f !== DB && !f.startsWith(`${DB}/`)).sort();
const lstat = (f: string) => fs.lstatSync(f, { throwIfNoEntry: false });
/** Two entries alike: both directories, the same symlink target, or the same file content. */
function alike(a: string, b: string): boolean {
  const [x, y] = [lstat(a), lstat(b)];
  if (x === undefined || y === undefined || x.isDirectory() !== y.isDirectory() || x.isSymbolicLink() !== y.isSymbolicLink()) return false;
  if (x.isDirectory()) return true;
  return x.isSymbolicLink() ? fs.readlinkSync(a) === fs.readlinkSync(b) : fs.readFileSync(a).equals(fs.readFileSync(b));
}
const status = (r: string) => fs.readFileSync(path.join(r, DB, 'status'));
const db = (b: Buffer): StatusDb => {
  const p = parseStatus(b, 'test');
  if (p.kind !== 'parsed') throw new Error(p.problems.join('; '));
  return p.db;
};

/** The info/ names in the host's upper: files it added or changed, and whiteouts for those it removed. */
function infoUpper(b0: string, u: string): Map<string, 'file' | 'whiteout'> {
  const [o, h] = [path.join(b0, DB, 'info'), path.join(u, DB, 'info')];
  const out = new Map<string, 'file' | 'whiteout'>();
  for (const f of fs.readdirSync(h)) if (!alike(path.join(h, f), path.join(o, f))) out.set(f, 'file');
  for (const f of fs.readdirSync(o)) if (lstat(path.join(h, f)) === undefined) out.set(f, 'whiteout');
  return out;
}

interface View {
  /** The verdict on each upper info/ entry. */
  readonly verdict: (name: string) => InfoVerdict | undefined;
  /** Paths (absolute) where the upper's entries give way to the new base: baseWonPaths. */
  readonly followBase: ReadonlySet<string>;
}

/**
 * The merged view as the overlay's per-path rules make it: the new base; where it left a path as the old
 * base had it, the host's change of it (a copy or a deletion); a path both added is the base's. Then the
 * merged status, and the upper's info/ entries that `verdict` keeps.
 */
function assemble(name: string, [b0, b1, u]: readonly [string, string, string], merged: Buffer, view: View): string {
  const r = path.join(work, name);
  fs.cpSync(b1, r, { recursive: true, verbatimSymlinks: true });
  const untouchedByBase = (f: string) => (lstat(path.join(b0, f)) === undefined ? lstat(path.join(b1, f)) === undefined : alike(path.join(b0, f), path.join(b1, f)));
  const hostRules = (f: string) => untouchedByBase(f) && (fs.lstatSync(path.join(b1, f), { throwIfNoEntry: false })?.isDirectory() || !view.followBase.has(`/${f}`));
  for (const f of entries(u)) {
    if (alike(path.join(u, f), path.join(b0, f)) || !hostRules(f)) continue;
    if (fs.lstatSync(path.join(u, f)).isDirectory()) fs.mkdirSync(path.join(r, f), { recursive: true });
    else fs.cpSync(path.join(u, f), path.join(r, f), { verbatimSymlinks: true });
  }
  // The host's deletions, deepest first, so that a directory it emptied can go after its files.
  for (const f of entries(b0).reverse()) {
    if (lstat(path.join(u, f)) !== undefined || !hostRules(f) || lstat(path.join(r, f)) === undefined) continue;
    if (!fs.lstatSync(path.join(r, f)).isDirectory()) fs.rmSync(path.join(r, f));
    else if (fs.readdirSync(path.join(r, f)).length === 0) fs.rmdirSync(path.join(r, f));
  }
  fs.writeFileSync(path.join(r, DB, 'status'), merged);
  for (const [f, kind] of infoUpper(b0, u)) {
    if (view.verdict(f) !== 'keep') continue;
    if (kind === 'file') fs.copyFileSync(path.join(u, DB, 'info', f), path.join(r, DB, 'info', f));
    else fs.rmSync(path.join(r, DB, 'info', f));
  }
  return r;
}

/** The merge of the three roots' status files, the verdicts on the host's info/ entries, the paths that follow the base. */
function merge([b0, b1, u]: readonly [string, string, string]) {
  const m = mergeStatus(status(b0), status(b1), status(u));
  if (m.kind !== 'merged') throw new Error(m.conflicts.join('; '));
  const dbs = { b0: db(status(b0)), b1: db(status(b1)), upper: db(status(u)), merged: m.db };
  const verdicts = infoFollowStatus(dbs, [...infoUpper(b0, u).keys()]);
  const reader = (r: string) => (f: string) => (lstat(path.join(r, DB, 'info', f)) === undefined ? undefined : fs.readFileSync(path.join(r, DB, 'info', f)));
  const followBase = baseWonPaths(m.baseWon, dbs, { b1: reader(b1), upper: reader(u) });
  return { ...m, verdicts, view: { verdict: (f: string) => verdicts.get(f), followBase } };
}

const audit = async (r: string) => (await dpkg(r, '--audit')).stdout;
/** dpkg --verify's report (its exit status is 1 when it has one). */
const verify = async (r: string, pkg: string) => (await tryRun('dpkg', [`--root=${r}`, '--verify', pkg])).stdout;
const installed = async (r: string) => (await run('dpkg-query', [`--root=${r}`, '-W', '-f', '${binary:Package} ${Version} ${db:Status-Abbrev}\n'])).stdout.split('\n').map((l) => l.trim());

interface Case {
  readonly name: string;
  readonly b0: Step[];
  readonly b1: Step[];
  readonly u: Step[];
  readonly baseWon: string[];
  /** dpkg-query -W of the merged root: package, version, status. */
  readonly installed: string[];
  /** Packages dpkg --verify must find clean in the merged root. */
  readonly verify: string[];
  /** The merged root built wrongly, and what dpkg says of it: so that the clean reports above say something. */
  readonly wrong?: { readonly view: (v: View) => View; readonly check: (r: string) => Promise<void> };
}

const NR3: Step = { install: ['nr3'] };
const CASES: Case[] = [
  {
    name: 'the base upgrades needrestart and adds a package; the host installed postgresql-common: all three there',
    b0: [NR3],
    b1: [{ install: ['nr4', 'extra'] }],
    u: [NR3, { install: ['pg1'] }],
    baseWon: [],
    installed: ['needrestart 3.6-4+deb12u4 ii', 'postgresql-common 248+deb12u1 ii', 'so-base-extra 1.0 ii'],
    verify: ['postgresql-common', 'needrestart', 'so-base-extra'],
    wrong: { view: (v) => ({ ...v, verdict: () => 'drop' }), check: async (r) => expect(await audit(r)).toContain('missing the list control file') },
  },
  {
    name: "the base ships the host's package at another version: the base's wins",
    b0: [NR3],
    b1: [{ install: ['nr4', 'pg2'] }],
    u: [NR3, { install: ['pg1'] }],
    baseWon: ['postgresql-common:all'],
    installed: ['needrestart 3.6-4+deb12u4 ii', 'postgresql-common 248+deb12u2 ii'],
    verify: ['postgresql-common', 'needrestart'],
    wrong: { view: (v) => ({ ...v, verdict: () => 'keep' }), check: async (r) => expect(await verify(r, 'postgresql-common')).toMatch(/^\?\?5\?{6} {3}\/usr\/share\/doc\/postgresql-common\/changelog\.gz$/m) },
  },
  {
    name: "the host removed needrestart, the base upgraded it: the base's wins, with the files the host deleted",
    b0: [NR3],
    b1: [{ install: ['nr4'] }],
    u: [NR3, { remove: 'needrestart' }],
    baseWon: ['needrestart:all'],
    installed: ['needrestart 3.6-4+deb12u4 ii'],
    verify: ['needrestart'],
    wrong: { view: (v) => ({ ...v, followBase: new Set() }), check: async (r) => expect(await verify(r, 'needrestart')).toMatch(/^missing {5}\/usr\/lib\/needrestart\/apt-pinvoke$/m) },
  },
  {
    name: 'the host removed postgresql-common, which the base left alone: it stays removed, its conffiles kept',
    b0: [{ install: ['nr3', 'pg1'] }],
    b1: [{ install: ['nr4', 'pg1'] }],
    u: [{ install: ['nr3', 'pg1'] }, { remove: 'postgresql-common' }],
    baseWon: [],
    installed: ['needrestart 3.6-4+deb12u4 ii', 'postgresql-common 248+deb12u1 rc'],
    verify: ['needrestart'],
  },
];

describe('oracle: dpkg reads the merged database', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const roots = [await root(`b0-${i}`, ...c.b0), await root(`b1-${i}`, ...c.b1), await root(`u-${i}`, ...c.u)] as const;
      const m = merge(roots);
      expect(m.baseWon).toEqual(c.baseWon);
      const r = assemble(`merged-${i}`, roots, m.content, m.view);
      expect(await audit(r)).toBe('');
      expect(await installed(r)).toEqual(c.installed);
      for (const pkg of c.verify) expect(await verify(r, pkg), pkg).toBe('');
      // dpkg rewriting the database (a new file renamed over it) leaves the merged bytes as they are.
      const ino = fs.statSync(path.join(r, DB, 'status')).ino;
      await run('dpkg', [`--root=${r}`, '--log=/dev/null', '--set-selections'], { input: 'needrestart install\n' });
      expect(fs.statSync(path.join(r, DB, 'status')).ino).not.toBe(ino);
      expect(status(r).toString('latin1')).toBe(m.content.toString('latin1'));
      if (c.wrong) await c.wrong.check(assemble(`wrong-${i}`, roots, m.content, c.wrong.view(m.view)));
    });
  }

  it("the merge is neither side's file: postgresql-common sorts before the base-added so-base-extra", async () => {
    const roots = [await root('b0-order', NR3), await root('b1-order', { install: ['nr4', 'extra'] }), await root('u-order', NR3, { install: ['pg1'] })] as const;
    const { content } = merge(roots);
    expect([...db(content).keys()]).toEqual(['needrestart:all', 'postgresql-common:all', 'so-base-extra:all']);
    expect(content.equals(status(roots[1])) || content.equals(status(roots[2]))).toBe(false);
  });
});
