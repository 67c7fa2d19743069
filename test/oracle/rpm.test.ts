// Differential test against real rpm: a package with plain files, symlinks, directories and every file
// flag a reconcile knows (%config(noreplace), %config, %config(missingok), %ghost), built twice with
// rpmbuild, installed and upgraded (rpm -U) or rolled back (rpm -U --oldpackage) in a scratch root,
// versus our reconcile of the same edits with the classes taken from the images' shipped manifests
// (ConfigFrom=rpm, no globs, no rpm database on the host).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { readClasses } from '../../src/manifest/store.js';
import { readPackageDbs } from '../../src/observe/package-db.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { PKG, PKG_DIR, applyEdits, contents, expectSameExceptKnown, MATRIX_DIRS, matrix, ours, shipImage, writeFiles, type Edits, type Image, type KnownDifference, type Version } from './oracle.js';

/** Flag prefixes: the files below etc/ named after them get that %files attribute. */
const FLAGS = { nr: '%config(noreplace)', r: '%config', m: '%config(missingok)', g: '%ghost' } as const;

const M = matrix(Object.keys(FLAGS).map((f) => `etc/${f}`));
const V1: Version = { version: '1.0', files: M.v1, dirs: MATRIX_DIRS.v1 };
const V2: Version = { version: '2.0', files: M.v2, dirs: MATRIX_DIRS.v2 };
const EDITS: Edits = M.edits;

let work: string;
const rpms: Record<string, string> = {};
const images: Record<string, Image> = {};

function spec(v: Version): string {
  const files = Object.keys(v.files).map((f) => {
    const flag = /^etc\/(nr|r|m|g)-/.exec(f)?.[1] as keyof typeof FLAGS | undefined;
    return `${flag ? `${FLAGS[flag]} ` : ''}/${PKG_DIR}/${f}`;
  });
  const dirs = Object.entries(v.dirs ?? {}).map(([d, mode]) => `%dir %attr(${mode.toString(8)},root,root) /${PKG_DIR}/${d}`);
  return [
    `Name: ${PKG}`, `Version: ${v.version}`, 'Release: 1', 'Summary: oracle test package', 'License: MIT', 'BuildArch: noarch', '',
    '%description', 'oracle test package', '',
    '%install', 'cp -a %{srcroot}/. %{buildroot}/', '',
    '%files', ...dirs, ...files, '',
  ].join('\n');
}

const rpm = (root: string, ...args: string[]) => run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...args]);

async function emptyRoot(name: string): Promise<string> {
  const root = path.join(work, name);
  fs.mkdirSync(root);
  await rpm(root, '--initdb');
  return root;
}

async function buildRpm(v: Version): Promise<string> {
  const src = path.join(work, `src-${v.version}`);
  writeFiles(src, v);
  const specFile = path.join(work, `${PKG}-${v.version}.spec`);
  fs.writeFileSync(specFile, spec(v));
  const top = path.join(work, 'rpmbuild');
  await run('rpmbuild', ['-bb', '--define', `_topdir ${top}`, '--define', `srcroot ${src}`, specFile]);
  const file = path.join(top, 'RPMS/noarch', `${PKG}-${v.version}-1.noarch.rpm`);
  // The image: the package alone installed into an empty root, database and all, indexed for shipping.
  const x = await emptyRoot(`image-${v.version}`);
  await rpm(x, '-i', '--nodeps', '--noscripts', file);
  images[v.version] = await shipImage(x, 'opt', 'rpm');
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

/** What rpm leaves after installing `from`, the edits, and rpm -U to `to` (--oldpackage for a rollback). */
const results = new Map<string, Record<string, string>>();
async function rpmResult(from: 'v1' | 'v2', to: 'v1' | 'v2'): Promise<Record<string, string>> {
  const key = `${from}-${to}`;
  if (results.has(key)) return results.get(key)!;
  const root = await emptyRoot(`rpm-${key}`);
  await rpm(root, '-i', '--nodeps', '--noscripts', rpms[from]!);
  applyEdits(path.join(root, PKG_DIR), EDITS);
  await rpm(root, '-U', '--oldpackage', '--nodeps', '--noscripts', rpms[to]!);
  results.set(key, contents(path.join(root, PKG_DIR)));
  return results.get(key)!;
}

const ROW2 = 'rule 2: the base did not change this path, so the host\'s change stays';
/**
 * Where the design knowingly differs from rpm, both results are stated here instead of compared: the
 * same in both directions, since every situation has its mirror (added ↔ removed).
 */
function known(from: Version, to: Version): Record<string, KnownDifference> {
  const same = (p: string) => from.files[p]!;
  // The %ghost the host wrote is state in the overlay (the base never has a %ghost: rpm installs none).
  const droppedGhosts = Object.keys(from.files).filter((p) => p.startsWith('etc/g-') && !(p in to.files) && typeof EDITS[p] === 'string');
  return {
    ...Object.fromEntries(droppedGhosts.map((p) => [p, {
      theirs: undefined,
      ours: EDITS[p]!,
      why: 'rpm erases the %ghost files of the old version that the new one no longer lists; a %ghost is declared state (never touched) here, and the base never had the file',
    }])),
    'bin/plain-edited-same': { theirs: same('bin/plain-edited-same'), ours: 'local edit\n', why: `rpm rewrites every non-config file of the new version; ${ROW2}` },
    'bin/plain-deleted-same': { theirs: same('bin/plain-deleted-same'), ours: undefined, why: `rpm recreates every missing file of the new version; ${ROW2} (the deletion)` },
    'etc/nr-deleted-same': { theirs: same('etc/nr-deleted-same'), ours: undefined, why: `rpm recreates a missing %config that is not missingok even when unchanged; ${ROW2} (the deletion)` },
    'etc/r-deleted-same': { theirs: same('etc/r-deleted-same'), ours: undefined, why: `rpm recreates a missing %config that is not missingok even when unchanged; ${ROW2} (the deletion)` },
  };
}

const CASES = [
  { name: 'upgrade', from: 'v1', to: 'v2', vFrom: V1, vTo: V2 },
  { name: 'rollback', from: 'v2', to: 'v1', vFrom: V2, vTo: V1 },
] as const;

describe('oracle: rpm file flags', () => {
  for (const c of CASES) {
    it(`rpm -U (${c.name}) equals Reconcile=changed with ConfigFrom=rpm from the shipped manifests, SuffixStyle=rpm`, async () => {
      const theirs = await rpmResult(c.from, c.to);
      const root = fs.mkdtempSync(path.join(work, `ours-${c.name}-`));
      const { merged } = await ours(root, images[c.vFrom.version]!, images[c.vTo.version]!, EDITS, { paths: { configFrom: 'rpm', suffixStyle: 'rpm' } });
      expectSameExceptKnown(merged, theirs, known(c.vFrom, c.vTo));
    });
  }

  it('is sensitive to SuffixStyle=: dpkg names and rules disagree with rpm', async () => {
    const theirs = await rpmResult('v1', 'v2');
    const root = fs.mkdtempSync(path.join(work, 'ours-swapped-'));
    const { merged } = await ours(root, images[V1.version]!, images[V2.version]!, EDITS, { paths: { configFrom: 'rpm', suffixStyle: 'dpkg' } });
    expect(() => expectSameExceptKnown(merged, theirs, known(V1, V2))).toThrow();
    expect(merged['etc/nr-edited-changed.dpkg-dist']).toBe('etc/nr v2\n');
  });

  it('the shipped manifest carries the classes of the image\'s rpm database; ConfigFrom=auto finds that database', async () => {
    expect((await readPackageDbs(images[V1.version]!.root, '/opt', 'auto')).dbs).toEqual(['rpm']);
    const c = readClasses(images[V1.version]!.manifest);
    expect(c.dbs).toEqual(['rpm']);
    const flags = (p: string) => {
      const k = c.byPath.get(`${PKG}/${p}` as never)!;
      return `${k.config ? 'c' : ''}${k.noreplace ? 'n' : ''}${k.missingok ? 'm' : ''}${k.ghost ? 'g' : ''} ${k.pkg}`;
    };
    expect(['etc/nr-edited-same', 'etc/r-edited-same', 'etc/m-edited-same', 'etc/g-edited-same'].map(flags)).toEqual([`cn ${PKG}`, `c ${PKG}`, `cm ${PKG}`, `g ${PKG}`]);
    expect(c.byPath.has(`${PKG}/bin/plain-edited-same` as never)).toBe(false);
  });

  it('records what rpm did, so the comparison above is not vacuous', async () => {
    const r = await rpmResult('v1', 'v2');
    expect(r).toMatchObject({
      'etc/nr-edited-changed': 'local edit\n',
      'etc/nr-edited-changed.rpmnew': 'etc/nr v2\n',
      'etc/r-edited-changed': 'etc/r v2\n',
      'etc/r-edited-changed.rpmsave': 'local edit\n',
      'etc/m-edited-changed.rpmsave': 'local edit\n',
      'etc/nr-deleted-changed': 'etc/nr v2\n',
      'etc/r-removed-edited.rpmsave': 'local edit\n',
      'etc/r-added-over-host': 'etc/r v2\n',
      'etc/r-added-over-host.rpmorig': 'host file\n',
      'etc/m-added-over-host.rpmorig': 'host file\n',
      'etc/nr-added-over-host': 'host file\n',
      'etc/nr-added-over-host.rpmnew': 'etc/nr v2\n',
      'etc/g-added-over-host': 'host file\n',
      'bin/plain-edited-changed': 'bin/plain v2\n',
      'share/olddir/state': 'host state\n',
      'share/moddir': '<dir 700>',
    });
    expect(r['etc/m-deleted-changed']).toBeUndefined();
    expect(r['etc/g-untouched-changed']).toBeUndefined();
  });
});
