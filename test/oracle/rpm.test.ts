// Differential test against real rpm: a package with %config and %config(noreplace) files, built twice
// with rpmbuild, installed and upgraded (rpm -U) in a scratch root, versus our reconcile (SuffixStyle=rpm,
// Config= for the noreplace files, ConfigReplace= for the plain %config ones) of the same edits.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { PKG, PKG_DIR, applyEdits, contents, expectSameExceptKnown, ours, writeFiles, type Edits, type KnownDifference, type Version } from './oracle.js';

const V1: Version = {
  version: '1.0',
  files: {
    'etc/nr-edited.conf': 'nr edited v1\n',
    'etc/r-edited.conf': 'r edited v1\n',
    'etc/nr-same.conf': 'nr same\n',
    'etc/r-same.conf': 'r same\n',
    'etc/nr-deleted.conf': 'nr deleted v1\n',
    'etc/r-deleted.conf': 'r deleted v1\n',
    'etc/nr-removed.conf': 'nr removed v1\n',
    'etc/r-removed.conf': 'r removed v1\n',
    'etc/nr-untouched.conf': 'nr untouched v1\n',
    'bin/tool': 'tool v1\n',
    'bin/same': 'same v1\n',
    'share/gone': 'gone v1\n',
    'share/deleted-plain': 'plain v1\n',
  },
};
const V2: Version = {
  version: '2.0',
  files: {
    'etc/nr-edited.conf': 'nr edited v2\n',
    'etc/r-edited.conf': 'r edited v2\n',
    'etc/nr-same.conf': 'nr same\n',
    'etc/r-same.conf': 'r same\n',
    'etc/nr-deleted.conf': 'nr deleted v2\n',
    'etc/r-deleted.conf': 'r deleted v2\n',
    'etc/nr-untouched.conf': 'nr untouched v2\n',
    'bin/tool': 'tool v2\n',
    'bin/same': 'same v1\n',
    'share/deleted-plain': 'plain v2\n',
    'share/new': 'new in v2\n',
  },
};
const EDITS: Edits = {
  'etc/nr-edited.conf': 'local edit\n',
  'etc/r-edited.conf': 'local edit\n',
  'etc/nr-same.conf': 'local edit\n',
  'etc/r-same.conf': 'local edit\n',
  'etc/nr-deleted.conf': null,
  'etc/r-deleted.conf': null,
  'etc/nr-removed.conf': 'local edit\n',
  'etc/r-removed.conf': 'local edit\n',
  'bin/tool': 'local edit\n',
  'bin/same': 'local edit\n',
  'share/gone': 'local edit\n',
  'share/deleted-plain': null,
  'share/state': 'host state\n',
};

let work: string;
const rpms: Record<string, string> = {};
const extracted: Record<string, string> = {};

function spec(v: Version): string {
  const files = Object.keys(v.files).map((f) => {
    const p = `/${PKG_DIR}/${f}`;
    if (f.startsWith('etc/nr-')) return `%config(noreplace) ${p}`;
    if (f.startsWith('etc/r-')) return `%config ${p}`;
    return p;
  });
  return [
    `Name: ${PKG}`, `Version: ${v.version}`, 'Release: 1', 'Summary: oracle test package', 'License: MIT', 'BuildArch: noarch', '',
    '%description', 'oracle test package', '',
    '%install', 'cp -a %{srcroot}/. %{buildroot}/', '',
    '%files', ...files, '',
  ].join('\n');
}

const rpm = (root: string, ...args: string[]) => run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...args]);

async function buildRpm(v: Version): Promise<string> {
  const src = path.join(work, `src-${v.version}`);
  writeFiles(src, v);
  const specFile = path.join(work, `${PKG}-${v.version}.spec`);
  fs.writeFileSync(specFile, spec(v));
  const top = path.join(work, 'rpmbuild');
  await run('rpmbuild', ['-bb', '--define', `_topdir ${top}`, '--define', `srcroot ${src}`, specFile]);
  const file = path.join(top, 'RPMS/noarch', `${PKG}-${v.version}-1.noarch.rpm`);
  // "Extracted": the package alone, installed into an empty root.
  const x = path.join(work, `x-${v.version}`);
  fs.mkdirSync(x);
  await rpm(x, '--initdb');
  await rpm(x, '-i', '--nodeps', '--noscripts', file);
  extracted[v.version] = path.join(x, 'opt');
  return file;
}

beforeAll(async () => {
  work = scratch('so-oracle-rpm-');
  rpms.v1 = await buildRpm(V1);
  rpms.v2 = await buildRpm(V2);
});
afterAll(async () => {
  await removeTree(work);
});

let upgraded: Record<string, string> | undefined;
/** What rpm leaves after install v1, the edits, and rpm -U to v2. */
async function rpmResult(): Promise<Record<string, string>> {
  if (upgraded) return upgraded;
  const root = path.join(work, 'rpmroot');
  fs.mkdirSync(root);
  await rpm(root, '--initdb');
  await rpm(root, '-i', '--nodeps', '--noscripts', rpms.v1!);
  applyEdits(path.join(root, PKG_DIR), EDITS);
  await rpm(root, '-U', '--nodeps', '--noscripts', rpms.v2!);
  upgraded = contents(path.join(root, PKG_DIR));
  return upgraded;
}

// Where the design knowingly differs from rpm, both results are stated here instead of compared.
const KNOWN: Record<string, KnownDifference> = {
  'bin/same': {
    theirs: 'same v1\n',
    ours: 'local edit\n',
    why: 'rpm rewrites every non-config file of the new version; the base did not change bin/same, so rule 2 keeps the local edit',
  },
};

describe('oracle: rpm %config handling', () => {
  it('rpm -U equals Reconcile=changed with Config= (noreplace), ConfigReplace= and SuffixStyle=rpm', async () => {
    const theirs = await rpmResult();
    const root = fs.mkdtempSync(path.join(work, 'ours-'));
    const { merged } = await ours(root, extracted[V1.version]!, extracted[V2.version]!, EDITS, {
      paths: { config: [`/${PKG_DIR}/etc/nr-*`], configReplace: [`/${PKG_DIR}/etc/r-*`], suffixStyle: 'rpm' },
    });
    expectSameExceptKnown(merged, theirs, KNOWN);
  });

  it('records what rpm did, so the comparison above is not vacuous', async () => {
    const r = await rpmResult();
    expect(r).toMatchObject({
      'etc/nr-edited.conf': 'local edit\n',
      'etc/nr-edited.conf.rpmnew': 'nr edited v2\n',
      'etc/r-edited.conf': 'r edited v2\n',
      'etc/r-edited.conf.rpmsave': 'local edit\n',
      'etc/nr-deleted.conf': 'nr deleted v2\n',
      'etc/r-deleted.conf': 'r deleted v2\n',
      'etc/nr-removed.conf.rpmsave': 'local edit\n',
      'etc/nr-same.conf': 'local edit\n',
      'bin/tool': 'tool v2\n',
      'share/state': 'host state\n',
    });
    expect(r['share/gone']).toBeUndefined();
  });
});
