// The dpkg database under a state overlay, end to end and judged by real dpkg: /var/lib/dpkg overlaid with
// Merge=/var/lib/dpkg/status:dpkg-status, the host installing a real package through the mount, then a new
// base that upgrades one package and adds another (and, in the second case, ships the host's package at
// another version). After the reconcile dpkg must find the database consistent with the files.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { cli } from '../cli/cli.js';
import { DOCS, read, section } from '../docs/markdown.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { dpkg, dpkgRoot, repack, toyDeb } from './dpkg-tools.js';

const DATA = path.join(import.meta.dirname, 'data');
const DEBS = { nr3: 'needrestart_3.6-4+deb12u3_all.deb', nr4: 'needrestart_3.6-4+deb12u4_all.deb', pg1: 'postgresql-common_248+deb12u1_all.deb', pg2: 'postgresql-common_248+deb12u2_all.deb' };
const NAME = 'var-lib-dpkg';
let work: string;
const debs: Record<string, string> = {};

beforeAll(async () => {
  work = scratch('so-dpkg-overlay-');
  for (const [k, deb] of Object.entries(DEBS)) debs[k] = await repack(path.join(DATA, deb), work);
  debs.extra = await toyDeb(work);
});
afterAll(async () => {
  await removeTree(work);
});

let root: string;
afterEach(() => {
  cli(['--root', root, '-q', 'unmount', NAME, '--lazy']);
});

const so = (...args: string[]) => {
  const r = cli(['--root', root, '-q', ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

/** A root dpkg made from the packages named (one dpkg -i). */
async function image(name: string, ...pkgs: string[]): Promise<string> {
  const r = dpkgRoot(path.join(work, name));
  await dpkg(r, '-i', ...pkgs.map((k) => debs[k]!));
  return r;
}

/** Image v1 booted, the host's install through the mounted overlay, then image v2 in place of the base. */
async function scenario(tag: string, v2: string[]): Promise<void> {
  root = path.join(work, `root-${tag}`);
  const [v1Root, v2Root] = [await image(`v1-${tag}`, 'nr3'), await image(`v2-${tag}`, ...v2)];
  await run('cp', ['-a', `${v1Root}/.`, root]);
  fs.mkdirSync(path.join(root, 'etc/state-overlay'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/state-overlay', `${NAME}.conf`), '[Paths]\nMerge=/var/lib/dpkg/status:dpkg-status\n');
  so('run', NAME);
  await dpkg(root, '-i', debs.pg1!);
  so('unmount', NAME);
  // The update: the new image's files and database (the overlay's base is the mountpoint's own directory).
  fs.rmSync(path.join(root, 'var/lib/dpkg'), { recursive: true });
  await run('cp', ['-a', `${v2Root}/.`, root]);
}

const versions = async () => (await run('dpkg-query', [`--root=${root}`, '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\\n'])).stdout.split('\n').sort();

describe('a dpkg database under a state overlay, Merge=…:dpkg-status', () => {
  it('keeps the host-installed package and takes the new base\'s upgrade and new package: --audit and --verify clean', async () => {
    await scenario('a', ['nr4', 'extra']);
    const r = JSON.parse(so('--json', 'reconcile', NAME)) as { merged: number; actions: { kind: string; path: string }[] };
    expect(r.merged).toBe(1);
    expect(r.actions.filter((a) => a.kind === 'merge').map((a) => a.path)).toEqual(['status']);
    so('run', NAME);
    expect((await run('dpkg', [`--root=${root}`, '--audit'])).stdout).toBe('');
    expect(await versions()).toEqual(['needrestart 3.6-4+deb12u4 ii ', 'postgresql-common 248+deb12u1 ii ', 'so-base-extra 1.0 ii ']);
    expect((await run('dpkg', [`--root=${root}`, '--verify', 'postgresql-common'])).stdout).toBe('');
  });

  it('the new base shipping the host\'s package at another version wins: its version listed, --audit clean, and a warning says so', async () => {
    await scenario('b', ['nr4', 'pg2']);
    // docs/operations.md shows this case's lines.
    const printed = so('reconcile', NAME, '--dry-run').split('\n');
    const doc = section(read(path.join(DOCS, 'operations.md')), '## The dpkg database under an overlay')!;
    const shown = doc.split('\n').filter((l) => l.startsWith('rule ') || l.startsWith('warning: '));
    expect(shown).toHaveLength(3);
    for (const l of shown) expect(printed).toContain(l);
    const r = JSON.parse(so('--json', 'reconcile', NAME)) as { merged: number; conflicts: { path: string; reason: string }[] };
    expect(r.merged).toBe(1);
    expect(r.conflicts).toEqual([expect.objectContaining({ path: 'status', reason: expect.stringContaining("postgresql-common:all: changed by the host and by the new base; the new base's stanza wins") })]);
    so('run', NAME);
    expect((await run('dpkg', [`--root=${root}`, '--audit'])).stdout).toBe('');
    expect(await versions()).toEqual(['needrestart 3.6-4+deb12u4 ii ', 'postgresql-common 248+deb12u2 ii ']);
    expect((await run('dpkg', [`--root=${root}`, '--verify', 'postgresql-common'])).stdout).toBe('');
  });
});
