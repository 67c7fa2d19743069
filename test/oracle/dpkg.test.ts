// Differential test against real dpkg: a package with conffiles, plain files, symlinks and directories,
// built twice with dpkg-deb, installed and upgraded (or rolled back: v2, then v1) with --force-confold
// and --force-confnew in a scratch root, versus our reconcile (SuffixStyle=dpkg, ConfigPolicy=noreplace
// or replace) of the same edits with the conffiles taken from the images' shipped manifests (ConfigFrom=dpkg,
// no globs, no dpkg database on the host).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { dpkg, dpkgImage, dpkgRoot } from './dpkg-tools.js';
import { PKG, PKG_DIR, MATRIX_DIRS, applyEdits, contents, expectSameExceptKnown, matrix, ours, writeFiles, type Edits, type Image, type KnownDifference, type Version } from './oracle.js';

const M = matrix(['etc/conf']);
const V1: Version = { version: '1.0', files: M.v1, dirs: MATRIX_DIRS.v1 };
const V2: Version = { version: '2.0', files: M.v2, dirs: MATRIX_DIRS.v2 };
const EDITS: Edits = M.edits;

let work: string;
const debs: Record<string, string> = {};
const images: Record<string, Image> = {};

async function buildDeb(v: Version): Promise<string> {
  const dir = path.join(work, `pkg-${v.version}`);
  fs.mkdirSync(path.join(dir, 'DEBIAN'), { recursive: true });
  writeFiles(dir, v);
  fs.writeFileSync(path.join(dir, 'DEBIAN/control'), `Package: ${PKG}\nVersion: ${v.version}\nArchitecture: all\nMaintainer: Test <test@example.org>\nDescription: oracle test package\n`);
  const conffiles = Object.keys(v.files).filter((f) => f.startsWith('etc/')).map((f) => `/${PKG_DIR}/${f}`);
  fs.writeFileSync(path.join(dir, 'DEBIAN/conffiles'), conffiles.join('\n') + '\n');
  const deb = path.join(work, `${PKG}_${v.version}_all.deb`);
  await run('dpkg-deb', ['--root-owner-group', '--build', dir, deb]);
  images[v.version] = await dpkgImage(path.join(work, `image-${v.version}`), deb, 'opt');
  return deb;
}

beforeAll(async () => {
  work = scratch('so-oracle-dpkg-');
  debs.v1 = await buildDeb(V1);
  debs.v2 = await buildDeb(V2);
});
afterAll(async () => {
  await removeTree(work);
});

type Option = '--force-confold' | '--force-confnew';
/** What dpkg leaves after installing `from`, the edits, and installing `to` with the given conffile option. */
const results = new Map<string, Record<string, string>>();
async function dpkgResult(from: 'v1' | 'v2', to: 'v1' | 'v2', option: Option): Promise<Record<string, string>> {
  const key = `${from}-${to}${option}`;
  if (results.has(key)) return results.get(key)!;
  const root = dpkgRoot(path.join(work, `dpkg-${key}`));
  await dpkg(root, '-i', debs[from]!);
  applyEdits(path.join(root, PKG_DIR), EDITS);
  await dpkg(root, option, '-i', debs[to]!);
  results.set(key, contents(path.join(root, PKG_DIR)));
  return results.get(key)!;
}

const ROW2 = 'rule 2: the base did not change this path, so the host\'s change stays';
/** Where the design knowingly differs from dpkg, both results are stated here instead of compared. */
function known(from: Version, to: Version): Record<string, KnownDifference> {
  const out: Record<string, KnownDifference> = {
    'bin/plain-edited-same': { theirs: from.files['bin/plain-edited-same'], ours: 'local edit\n', why: `dpkg unpacks every file of the new version; ${ROW2}` },
    'bin/plain-deleted-same': { theirs: from.files['bin/plain-deleted-same'], ours: undefined, why: `dpkg unpacks every file of the new version; ${ROW2} (the deletion)` },
    // Rule 8 has nothing to apply: the host never touched the directory, the new base's shows.
    'share/moddir': { theirs: `<dir ${from.dirs!['share/moddir']!.toString(8)}>`, ours: `<dir ${to.dirs!['share/moddir']!.toString(8)}>`, why: 'dpkg leaves the mode of a directory that exists as it was; the image\'s new mode shows through the overlay' },
  };
  // An untouched conffile the new version drops: dpkg leaves it on disk (obsolete). The overlay has no
  // copy of it in the upper, and the old base that held its content is gone once the new image is booted.
  for (const p of Object.keys(from.files)) {
    if (p.startsWith('etc/') && !(p in to.files) && EDITS[p] === undefined) {
      out[p] = { theirs: from.files[p], ours: undefined, why: 'dpkg keeps an obsolete conffile; the overlay holds no copy of an untouched one, and the old base is gone' };
    }
  }
  return out;
}

const CASES = [
  { name: 'upgrade', from: 'v1', to: 'v2', vFrom: V1, vTo: V2 },
  { name: 'rollback', from: 'v2', to: 'v1', vFrom: V2, vTo: V1 },
] as const;
const POLICIES = [
  { option: '--force-confold' as const, policy: 'noreplace' as const },
  { option: '--force-confnew' as const, policy: 'replace' as const },
];

describe('oracle: dpkg conffile handling', () => {
  for (const c of CASES) {
    for (const { option, policy } of POLICIES) {
      it(`dpkg ${option} (${c.name}) equals Reconcile=changed with ConfigFrom=dpkg, ConfigPolicy=${policy}, SuffixStyle=dpkg`, async () => {
        const theirs = await dpkgResult(c.from, c.to, option);
        const root = fs.mkdtempSync(path.join(work, `ours-${c.name}-${policy}-`));
        const { merged } = await ours(root, images[c.vFrom.version]!, images[c.vTo.version]!, EDITS, { paths: { configFrom: 'dpkg', configPolicy: policy, suffixStyle: 'dpkg' } });
        expectSameExceptKnown(merged, theirs, known(c.vFrom, c.vTo));
      });
    }
  }

  it('ConfigFrom=auto on the host takes the dpkg classes the manifests record', async () => {
    const theirs = await dpkgResult('v1', 'v2', '--force-confold');
    const root = fs.mkdtempSync(path.join(work, 'ours-auto-'));
    const { merged } = await ours(root, images[V1.version]!, images[V2.version]!, EDITS, { paths: { configFrom: 'auto', suffixStyle: 'dpkg' } });
    expectSameExceptKnown(merged, theirs, known(V1, V2));
  });

  it('is sensitive to SuffixStyle=: rpm names and rules disagree with dpkg', async () => {
    const theirs = await dpkgResult('v1', 'v2', '--force-confold');
    const root = fs.mkdtempSync(path.join(work, 'ours-swapped-'));
    const { merged } = await ours(root, images[V1.version]!, images[V2.version]!, EDITS, { paths: { configFrom: 'dpkg', suffixStyle: 'rpm' } });
    expect(() => expectSameExceptKnown(merged, theirs, known(V1, V2))).toThrow();
    expect(merged['etc/conf-edited-changed.rpmnew']).toBe('etc/conf v2\n');
  });

  it('records what dpkg did, so the comparison above is not vacuous', async () => {
    const old = await dpkgResult('v1', 'v2', '--force-confold');
    expect(old).toMatchObject({
      'etc/conf-edited-changed': 'local edit\n',
      'etc/conf-edited-changed.dpkg-dist': 'etc/conf v2\n',
      'etc/conf-removed-edited': 'local edit\n',
      'etc/conf-added-over-host': 'host file\n',
      'etc/conf-added-over-host.dpkg-dist': 'etc/conf v2\n',
      'bin/plain-edited-changed': 'bin/plain v2\n',
      'share/olddir/state': 'host state\n',
    });
    expect(old['etc/conf-deleted-changed']).toBeUndefined();
    expect(old['etc/conf-deleted-changed.dpkg-dist']).toBe('etc/conf v2\n');
    const fresh = await dpkgResult('v1', 'v2', '--force-confnew');
    expect(fresh).toMatchObject({
      'etc/conf-edited-changed': 'etc/conf v2\n',
      'etc/conf-edited-changed.dpkg-old': 'local edit\n',
      'etc/conf-added-over-host': 'etc/conf v2\n',
      'etc/conf-added-over-host.dpkg-old': 'host file\n',
      'etc/conf-deleted-changed': 'etc/conf v2\n',
    });
  });
});
