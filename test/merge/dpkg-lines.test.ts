// The diversions and statoverride drivers, table-tested, and their merges read back by dpkg-divert and
// dpkg-statoverride from files those tools wrote themselves in three scratch roots.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { diversionsMerge, statoverrideMerge } from '../../src/merge/dpkg-lines.js';
import type { MergeOutcome } from '../../src/merge/types.js';
import { dpkgRoot } from '../oracle/dpkg-tools.js';
import { removeTree, scratch } from '../tree/fixtures.js';

const L = (...lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');
const text = (r: MergeOutcome) => (r.kind === 'merged' ? r.content.toString('latin1') : r.conflicts);

const D = (from: string, pkg = ':', to = `${from}.distrib`) => [from, to, pkg];
const BASH = D('/bin/sh', 'dash', '/bin/sh.distrib');
const LOCAL = D('/usr/bin/foo bar');

describe('diversions', () => {
  it.each([
    ['a diversion the host added is kept after the base', L(...BASH), L(...BASH, ...D('/usr/sbin/x', 'pkg')), L(...BASH, ...LOCAL), L(...BASH, ...D('/usr/sbin/x', 'pkg'), ...LOCAL)],
    ['one the host removed stays removed', L(...BASH, ...LOCAL), L(...BASH, ...LOCAL), L(...BASH), L(...BASH)],
    ["the host's change of the divert-to applies", L(...LOCAL), L(...LOCAL), L(...D('/usr/bin/foo bar', ':', '/usr/bin/foo bar.host')), L(...D('/usr/bin/foo bar', ':', '/usr/bin/foo bar.host'))],
    ["the base's change applies where the host did nothing", L(...BASH), L(...D('/bin/sh', 'bash', '/bin/sh.distrib')), L(...BASH), L(...D('/bin/sh', 'bash', '/bin/sh.distrib'))],
    ['empty files', L(), L(), L(), L()],
  ])('%s', (_, b0, b1, u, want) => {
    expect(text(diversionsMerge(b0, b1, u))).toBe(want.toString('latin1'));
  });

  it.each([
    ['changed both ways', L(...BASH), L(...D('/bin/sh', 'bash')), L(...D('/bin/sh', ':')), ['diversions: /bin/sh was changed by the host and changed by the new base, differently']],
    ['added both ways', L(), L(...LOCAL), L(...D('/usr/bin/foo bar', 'pkg')), ['diversions: /usr/bin/foo bar was added by the host and added by the new base, differently']],
    ['removed by the host, changed by the base', L(...BASH), L(...D('/bin/sh', 'bash')), L(), ['diversions: /bin/sh was removed by the host and changed by the new base']],
    ['a record cut short', L(...BASH), L(...BASH, '/usr/bin/x'), L(...BASH), ['diversions: the new base has 4 lines, not records of 3']],
    ['a key held twice', L(...BASH, ...BASH), L(...BASH), L(...BASH), ['diversions: the old base holds /bin/sh twice (the second at line 4)']],
    ['no last newline', L(...BASH), L(...BASH), Buffer.from('/bin/sh\n/bin/sh.distrib\ndash'), ["diversions: the host's copy does not end with a newline"]],
  ])('conflict: %s', (_, b0, b1, u, want) => {
    expect(diversionsMerge(b0, b1, u)).toEqual({ kind: 'conflict', conflicts: want });
  });
});

describe('statoverride', () => {
  const SU = 'root root 4755 /usr/bin/su';
  it('keyed by the path (spaces and all): host and base additions both kept, the host removal holds', () => {
    expect(text(statoverrideMerge(L(SU, 'root root 755 /usr/bin/old'), L(SU, 'root root 755 /usr/bin/old', 'root crontab 2755 /usr/bin/crontab'), L(SU, 'nobody root 700 /srv/my dir')))).toBe(
      L(SU, 'root crontab 2755 /usr/bin/crontab', 'nobody root 700 /srv/my dir').toString('latin1'),
    );
  });
  it.each([
    ['the same path overridden differently', L(SU), L('root root 4750 /usr/bin/su'), L('root root 755 /usr/bin/su'), ['statoverride: /usr/bin/su was changed by the host and changed by the new base, differently']],
    ['a line of three fields', L(SU), L('root root /usr/bin/su'), L(SU), ['statoverride: the new base line 1 "root root /usr/bin/su" does not start a record']],
    ['CRLF', L(SU), L(SU), L(`${SU}\r`), ['statoverride: the host\'s copy line 1 "root root 4755 /usr/bin/su\\r" does not start a record']],
  ])('conflict: %s', (_, b0, b1, u, want) => {
    expect(statoverrideMerge(b0, b1, u)).toEqual({ kind: 'conflict', conflicts: want });
  });
});

describe('dpkg-divert and dpkg-statoverride read the merged files', () => {
  const work = scratch('so-merge-dpkg-lines-');
  afterAll(() => removeTree(work));
  const db = (root: string, file: string) => fs.readFileSync(path.join(root, 'var/lib/dpkg', file));
  const divert = (root: string, ...args: string[]) => run('dpkg-divert', [`--root=${root}`, '--no-rename', ...args]);
  const override = (root: string, ...args: string[]) => run('dpkg-statoverride', [`--root=${root}`, ...args]);
  const list = async (tool: string, root: string) => (await run(tool, [`--root=${root}`, '--list'])).stdout.split('\n').filter(Boolean).sort();

  it('diversions and overrides the host and the new base each added, changed and removed', async () => {
    const [b0, b1, u, out] = ['b0', 'b1', 'u', 'merged'].map((n) => dpkgRoot(path.join(work, n))) as [string, string, string, string];
    for (const r of [b0, b1, u]) {
      await divert(r, '--package', 'dash', '--divert', '/bin/sh.distrib', '--add', '/bin/sh');
      await divert(r, '--divert', '/usr/bin/old.orig', '--add', '/usr/bin/old');
      await override(r, '--add', 'root', 'root', '4755', '/usr/bin/su');
      await override(r, '--add', 'root', 'root', '0755', '/usr/bin/old');
    }
    await divert(b1, '--package', 'base-pkg', '--divert', '/usr/sbin/x.real', '--add', '/usr/sbin/x');
    await override(b1, '--remove', '/usr/bin/su');
    await override(b1, '--add', 'root', 'root', '4750', '/usr/bin/su');
    await divert(u, '--divert', '/etc/host file.orig', '--add', '/etc/host file');
    await divert(u, '--remove', '/usr/bin/old');
    await override(u, '--remove', '/usr/bin/old');
    await override(u, '--add', 'nobody', 'root', '0700', '/srv/my dir');
    for (const [file, driver] of [['diversions', diversionsMerge], ['statoverride', statoverrideMerge]] as const) {
      const r = driver(db(b0, file), db(b1, file), db(u, file));
      expect(r.kind, file).toBe('merged');
      if (r.kind === 'merged') fs.writeFileSync(path.join(out, 'var/lib/dpkg', file), r.content);
    }
    expect(await list('dpkg-divert', out)).toEqual([
      'diversion of /bin/sh to /bin/sh.distrib by dash',
      'diversion of /usr/sbin/x to /usr/sbin/x.real by base-pkg',
      'local diversion of /etc/host file to /etc/host file.orig',
    ]);
    expect(await list('dpkg-statoverride', out)).toEqual(['nobody root 700 /srv/my dir', 'root root 4750 /usr/bin/su']);
  });
});
