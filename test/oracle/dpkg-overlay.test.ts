// The dpkg database under state overlays, end to end and judged by real dpkg: /usr, /etc and /var/lib/dpkg
// each overlaid (the last with Merge=/var/lib/dpkg/status:dpkg-status, /etc with ConfigFrom=dpkg), the host
// installing a real package through the mounts, then a new base that upgrades one package and adds another
// (and, in the second case, ships the host's package at another version). After the reconciles dpkg must
// find the database consistent with the files.
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
/** The three overlays, by instance name: what dpkg writes. */
const OVERLAYS = { usr: '[Paths]\n', etc: '[Paths]\nConfigFrom=dpkg\nSuffixStyle=dpkg\n', [NAME]: '[Paths]\nMerge=/var/lib/dpkg/status:dpkg-status\n' };
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
  for (const name of Object.keys(OVERLAYS)) cli(['--root', root, '-q', 'unmount', name, '--lazy']);
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

/** The overlays' configuration in a root; shipped: each image also ships its manifests (index --ship, as an image build). */
function configure(r: string): void {
  fs.mkdirSync(path.join(r, 'etc/state-overlay'), { recursive: true });
  for (const [name, conf] of Object.entries(OVERLAYS)) fs.writeFileSync(path.join(r, 'etc/state-overlay', `${name}.conf`), conf);
}

/** Image v1 booted, the host's install through the mounted overlay, then image v2 in place of the base. */
async function scenario(tag: string, v2: string[], shipped = false): Promise<void> {
  root = path.join(work, `root-${tag}`);
  const [v1Root, v2Root] = [await image(`v1-${tag}`, 'nr3'), await image(`v2-${tag}`, ...v2)];
  if (shipped) {
    for (const r of [v1Root, v2Root]) {
      configure(r);
      for (const name of Object.keys(OVERLAYS)) expect(cli(['--root', r, '-q', 'index', '--ship', name]).code).toBe(0);
    }
  }
  await run('cp', ['-a', `${v1Root}/.`, root]);
  configure(root);
  for (const name of Object.keys(OVERLAYS)) so('run', name);
  await dpkg(root, '-i', debs.pg1!);
  for (const name of Object.keys(OVERLAYS)) so('unmount', name);
  // The host's install went into the uppers only.
  expect(fs.existsSync(path.join(root, 'usr/share/postgresql-common'))).toBe(false);
  // The update: the new image's files and database in each overlay's base (the mountpoint's own
  // directory); /etc keeps the overlays' configuration, as an image would ship it.
  for (const d of ['usr', 'var/lib/dpkg']) fs.rmSync(path.join(root, d), { recursive: true });
  await run('cp', ['-a', `${v2Root}/.`, root]);
}

/** Reconciles the three overlays (the dpkg database's as JSON), then mounts them again. */
function update(): { merged: number; to: string; actions: { kind: string; path: string }[]; conflicts: { path: string; reason: string }[] } {
  so('reconcile', 'usr');
  so('reconcile', 'etc');
  const r = JSON.parse(so('--json', 'reconcile', NAME)) as ReturnType<typeof update>;
  for (const name of Object.keys(OVERLAYS)) so('run', name);
  return r;
}

const versions = async () => (await run('dpkg-query', [`--root=${root}`, '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\\n'])).stdout.split('\n').sort();

describe('a dpkg database under a state overlay, Merge=…:dpkg-status', () => {
  it('keeps the host-installed package and takes the new base\'s upgrade and new package: --audit and --verify clean', async () => {
    await scenario('a', ['nr4', 'extra']);
    const r = update();
    expect(r.merged).toBe(1);
    expect(r.actions.filter((a) => a.kind === 'merge').map((a) => a.path)).toEqual(['status']);
    expect((await run('dpkg', [`--root=${root}`, '--audit'])).stdout).toBe('');
    expect(await versions()).toEqual(['needrestart 3.6-4+deb12u4 ii ', 'postgresql-common 248+deb12u1 ii ', 'so-base-extra 1.0 ii ']);
    expect((await run('dpkg', [`--root=${root}`, '--verify', 'postgresql-common'])).stdout).toBe('');
  });

  it('the new base shipping the host\'s package at another version wins: its version listed, --audit clean, and a warning says so', async () => {
    // This time each image ships its manifests, as an image build does.
    await scenario('b', ['nr4', 'pg2'], true);
    expect(fs.existsSync(path.join(root, 'usr/lib/state-overlay', `${NAME}.manifest`))).toBe(true);
    // docs/operations.md shows this case's lines.
    const printed = so('reconcile', NAME, '--dry-run').split('\n');
    const doc = section(read(path.join(DOCS, 'operations.md')), '## The dpkg database under an overlay')!;
    const shown = doc.split('\n').filter((l) => l.startsWith('rule ') || l.startsWith('warning: '));
    expect(shown).toHaveLength(3);
    for (const l of shown) expect(printed).toContain(l);
    const r = update();
    expect(r).toMatchObject({ merged: 1, to: expect.stringMatching(/^manifest:/) });
    expect(r.conflicts).toEqual([expect.objectContaining({ path: 'status', reason: expect.stringContaining("postgresql-common:all: changed by the host and by the new base; the new base's stanza wins") })]);
    expect((await run('dpkg', [`--root=${root}`, '--audit'])).stdout).toBe('');
    expect(await versions()).toEqual(['needrestart 3.6-4+deb12u4 ii ', 'postgresql-common 248+deb12u2 ii ']);
    expect((await run('dpkg', [`--root=${root}`, '--verify', 'postgresql-common'])).stdout).toBe('');
  });
});
