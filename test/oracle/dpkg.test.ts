// Differential test against real dpkg: a package with conffiles, built twice, installed and upgraded with
// --force-confold and --force-confnew in a scratch root, versus our reconcile (SuffixStyle=dpkg,
// ConfigPolicy=noreplace|replace) of the same edits over the two extracted versions.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { PKG, PKG_DIR, applyEdits, contents, expectSameExceptKnown, ours, writeFiles, type Edits, type KnownDifference, type Version } from './oracle.js';

const V1: Version = {
  version: '1.0',
  files: {
    'etc/edited.conf': 'edited v1\n',
    'etc/untouched.conf': 'untouched v1\n',
    'etc/edited-same.conf': 'same\n',
    'etc/deleted.conf': 'deleted v1\n',
    'etc/deleted-same.conf': 'deleted same\n',
    'etc/removed.conf': 'removed v1\n',
    'bin/tool': 'tool v1\n',
    'bin/same': 'same v1\n',
    'share/gone': 'gone v1\n',
    'share/deleted-plain': 'plain v1\n',
  },
};
const V2: Version = {
  version: '2.0',
  files: {
    'etc/edited.conf': 'edited v2\n',
    'etc/untouched.conf': 'untouched v2\n',
    'etc/edited-same.conf': 'same\n',
    'etc/deleted.conf': 'deleted v2\n',
    'etc/deleted-same.conf': 'deleted same\n',
    'bin/tool': 'tool v2\n',
    'bin/same': 'same v1\n',
    'share/deleted-plain': 'plain v2\n',
    'share/new': 'new in v2\n',
  },
};
const EDITS: Edits = {
  'etc/edited.conf': 'local edit\n',
  'etc/edited-same.conf': 'local edit\n',
  'etc/deleted.conf': null,
  'etc/deleted-same.conf': null,
  'etc/removed.conf': 'local edit\n',
  'bin/tool': 'local edit\n',
  'bin/same': 'local edit\n',
  'share/gone': 'local edit\n',
  'share/deleted-plain': null,
  'share/state': 'host state\n',
};

let work: string;
const debs: Record<string, string> = {};
const extracted: Record<string, string> = {};

async function buildDeb(v: Version): Promise<string> {
  const dir = path.join(work, `pkg-${v.version}`);
  fs.mkdirSync(path.join(dir, 'DEBIAN'), { recursive: true });
  writeFiles(dir, v);
  fs.writeFileSync(path.join(dir, 'DEBIAN/control'), `Package: ${PKG}\nVersion: ${v.version}\nArchitecture: all\nMaintainer: Test <test@example.org>\nDescription: oracle test package\n`);
  const conffiles = Object.keys(v.files).filter((f) => f.startsWith('etc/')).map((f) => `/${PKG_DIR}/${f}`);
  fs.writeFileSync(path.join(dir, 'DEBIAN/conffiles'), conffiles.join('\n') + '\n');
  const deb = path.join(work, `${PKG}_${v.version}_all.deb`);
  await run('dpkg-deb', ['--root-owner-group', '--build', dir, deb]);
  const x = path.join(work, `x-${v.version}`);
  await run('dpkg-deb', ['-x', deb, x]);
  extracted[v.version] = path.join(x, 'opt');
  return deb;
}

function dpkgRoot(name: string): string {
  const root = path.join(work, name);
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['var/lib/dpkg/status', 'var/lib/dpkg/available']) fs.writeFileSync(path.join(root, f), '');
  return root;
}

const dpkg = (root: string, ...args: string[]) => run('dpkg', [`--root=${root}`, '--log=/dev/null', ...args]);

beforeAll(async () => {
  work = scratch('so-oracle-dpkg-');
  debs.v1 = await buildDeb(V1);
  debs.v2 = await buildDeb(V2);
});
afterAll(async () => {
  await removeTree(work);
});

/** What dpkg leaves after install v1, the edits, and an upgrade to v2 with the given conffile option. */
const results = new Map<string, Record<string, string>>();
async function dpkgResult(option: '--force-confold' | '--force-confnew'): Promise<Record<string, string>> {
  const hit = results.get(option);
  if (hit) return hit;
  const root = dpkgRoot(`dpkg${option}`);
  await dpkg(root, '-i', debs.v1!);
  applyEdits(path.join(root, PKG_DIR), EDITS);
  await dpkg(root, option, '-i', debs.v2!);
  const tree = contents(path.join(root, PKG_DIR));
  results.set(option, tree);
  return tree;
}

// Where the design knowingly differs from dpkg, both results are stated here instead of compared.
const KNOWN: Record<string, KnownDifference> = {
  'bin/same': {
    theirs: 'same v1\n',
    ours: 'local edit\n',
    why: 'dpkg unpacks every file of the new version; the base did not change bin/same, so rule 2 keeps the local edit',
  },
};

describe('oracle: dpkg conffile handling', () => {
  const cases = [
    { option: '--force-confold' as const, policy: 'noreplace' as const },
    { option: '--force-confnew' as const, policy: 'replace' as const },
  ];
  for (const { option, policy } of cases) {
    it(`dpkg ${option} equals Reconcile=changed with ConfigPolicy=${policy}, SuffixStyle=dpkg`, async () => {
      const theirs = await dpkgResult(option);
      const root = fs.mkdtempSync(path.join(work, `ours-${policy}-`));
      const { merged } = await ours(root, extracted[V1.version]!, extracted[V2.version]!, EDITS, {
        paths: { config: [`/${PKG_DIR}/etc/**`], configPolicy: policy, suffixStyle: 'dpkg' },
      });
      expectSameExceptKnown(merged, theirs, KNOWN);
    });
  }

  it('records what dpkg did, so the comparison above is not vacuous', async () => {
    const old = await dpkgResult('--force-confold');
    expect(old).toMatchObject({
      'etc/edited.conf': 'local edit\n',
      'etc/edited.conf.dpkg-dist': 'edited v2\n',
      'etc/removed.conf': 'local edit\n',
      'bin/tool': 'tool v2\n',
      'share/state': 'host state\n',
    });
    expect(old['share/gone']).toBeUndefined();
    expect(old['etc/deleted.conf']).toBeUndefined();
    expect(old['etc/deleted.conf.dpkg-dist']).toBe('deleted v2\n');
    const fresh = await dpkgResult('--force-confnew');
    expect(fresh).toMatchObject({ 'etc/edited.conf': 'edited v2\n', 'etc/edited.conf.dpkg-old': 'local edit\n', 'etc/deleted.conf': 'deleted v2\n' });
  });
});
