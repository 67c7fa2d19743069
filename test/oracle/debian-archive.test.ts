// Differential test against real dpkg with real packages from Debian's archive, kept in data/ (never
// downloaded by tests): needrestart 3.6-4+deb12u3 (bookworm) → +deb12u4 (bookworm-security) changes the
// conffile /etc/needrestart/notify.d/400-notify-send; postgresql-common 248+deb12u1 (bookworm) →
// +deb12u2 (bookworm-security) adds the conffile /etc/postgresql-common/minor_versions, which the
// rollback drops again. The overlay is /etc; conffiles come from the images' shipped manifests.
// The packages are repacked without their maintainer scripts (dpkg-tools.ts, repack).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTree, scratch } from '../tree/fixtures.js';
import { dpkg, dpkgImage, dpkgRoot, repack } from './dpkg-tools.js';
import { applyEdits, contents, expectSameExceptKnown, ours, type Edits, type Image, type KnownDifference } from './oracle.js';

const DATA = path.join(import.meta.dirname, 'data');
const DEBS = {
  'needrestart-u3': 'needrestart_3.6-4+deb12u3_all.deb',
  'needrestart-u4': 'needrestart_3.6-4+deb12u4_all.deb',
  'pgcommon-u1': 'postgresql-common_248+deb12u1_all.deb',
  'pgcommon-u2': 'postgresql-common_248+deb12u2_all.deb',
} as const;
type Deb = keyof typeof DEBS;

let work: string;
const debs: Partial<Record<Deb, string>> = {};
const images: Partial<Record<Deb, Image>> = {};

beforeAll(async () => {
  work = scratch('so-oracle-debian-');
  for (const name of Object.keys(DEBS) as Deb[]) {
    debs[name] = await repack(path.join(DATA, DEBS[name]), work);
    images[name] = await dpkgImage(path.join(work, `image-${name}`), debs[name], 'etc');
  }
});
afterAll(async () => {
  await removeTree(work);
});

type Option = '--force-confold' | '--force-confnew';
async function dpkgResult(from: Deb, to: Deb, edits: Edits, option: Option): Promise<Record<string, string>> {
  const root = dpkgRoot(path.join(work, `dpkg-${from}-${to}${option}`));
  await dpkg(root, '-i', debs[from]!);
  applyEdits(path.join(root, 'etc'), edits);
  await dpkg(root, option, '-i', debs[to]!);
  return contents(path.join(root, 'etc'));
}

interface Case {
  readonly name: string;
  readonly from: Deb;
  readonly to: Deb;
  /** Below /etc. */
  readonly edits: Edits;
  readonly known?: Record<string, KnownDifference>;
  /** What dpkg must have done, per option, so that the comparison is not vacuous. */
  readonly expect: Record<Option, Record<string, string | undefined>>;
}

const CASES: Case[] = [
  {
    name: 'needrestart upgrade: a changed conffile edited, an unchanged one edited, one deleted, host state',
    from: 'needrestart-u3',
    to: 'needrestart-u4',
    edits: {
      'needrestart/notify.d/400-notify-send': '# local edit\n',
      'needrestart/needrestart.conf': '# local edit\n',
      'needrestart/notify.conf': null,
      'needrestart/conf.d/local.conf': '# host state\n',
    },
    expect: {
      '--force-confold': { 'needrestart/notify.d/400-notify-send': '# local edit\n', 'needrestart/needrestart.conf': '# local edit\n', 'needrestart/notify.conf': undefined },
      '--force-confnew': { 'needrestart/notify.d/400-notify-send.dpkg-old': '# local edit\n', 'needrestart/needrestart.conf': '# local edit\n' },
    },
  },
  {
    name: 'postgresql-common upgrade: the new version adds a conffile over a file the host created',
    from: 'pgcommon-u1',
    to: 'pgcommon-u2',
    edits: { 'postgresql-common/minor_versions': '# host file\n' },
    expect: {
      '--force-confold': { 'postgresql-common/minor_versions': '# host file\n' },
      '--force-confnew': { 'postgresql-common/minor_versions.dpkg-old': '# host file\n' },
    },
  },
  {
    name: 'postgresql-common rollback: a host-edited conffile that the older version does not ship',
    from: 'pgcommon-u2',
    to: 'pgcommon-u1',
    edits: { 'postgresql-common/minor_versions': '# local edit\n' },
    expect: {
      '--force-confold': { 'postgresql-common/minor_versions': '# local edit\n' },
      '--force-confnew': { 'postgresql-common/minor_versions': '# local edit\n' },
    },
  },
];
const POLICIES = [
  { option: '--force-confold' as const, policy: 'noreplace' as const },
  { option: '--force-confnew' as const, policy: 'replace' as const },
];

describe('oracle: dpkg with packages from the Debian archive', () => {
  for (const c of CASES) {
    for (const { option, policy } of POLICIES) {
      it(`${c.name}: dpkg ${option} equals ConfigFrom=dpkg, ConfigPolicy=${policy}`, async () => {
        const theirs = await dpkgResult(c.from, c.to, c.edits, option);
        expect(theirs).toMatchObject(Object.fromEntries(Object.entries(c.expect[option]).filter(([, v]) => v !== undefined)));
        for (const [p, v] of Object.entries(c.expect[option])) if (v === undefined) expect(theirs[p]).toBeUndefined();
        const root = fs.mkdtempSync(path.join(work, 'ours-'));
        const { merged } = await ours(root, images[c.from]!, images[c.to]!, c.edits, { paths: { configFrom: 'dpkg', configPolicy: policy, suffixStyle: 'dpkg' } }, { mount: 'etc', dir: '.' });
        expectSameExceptKnown(merged, theirs, c.known ?? {});
      });
    }
  }
});
