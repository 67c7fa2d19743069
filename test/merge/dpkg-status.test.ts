// The dpkg-status driver and the info/ verdicts, table-tested on hand-written stanzas, with dpkg-query
// reading the tables' files; test/oracle/dpkg-merge.test.ts merges real dpkg databases.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tryRun } from '../../src/exec.js';
import { parseStatus, type StatusDb } from '../../src/merge/dpkg-db.js';
import { baseWonPaths, infoFollowStatus } from '../../src/merge/dpkg-info.js';
import { dpkgStatusMerge, mergeStatus } from '../../src/merge/dpkg-status.js';
import { dpkgRoot } from '../oracle/dpkg-tools.js';
import { removeTree, scratch } from '../tree/fixtures.js';

/** A stanza's text: Package, Status, Architecture, Version, Maintainer and Description, then any further lines as given. */
const S = (pkg: string, version: string, opts: { arch?: string | null; status?: string; extra?: string[] } = {}) =>
  [`Package: ${pkg}`, `Status: ${opts.status ?? 'install ok installed'}`, ...(opts.arch === null ? [] : [`Architecture: ${opts.arch ?? 'amd64'}`]), `Version: ${version}`, 'Maintainer: Test <test@example.org>', `Description: ${pkg}`, ...(opts.extra ?? [])]
    .map((l) => `${l}\n`)
    .join('');
const F = (...stanzas: string[]) => Buffer.from(stanzas.map((s) => `${s}\n`).join(''), 'latin1');
const merged = (b0: Buffer, b1: Buffer, u: Buffer) => {
  const r = dpkgStatusMerge(b0, b1, u);
  if (r.kind !== 'merged') throw new Error(r.conflicts.join('; '));
  return { text: r.content.toString('latin1'), notes: r.notes ?? [] };
};

const DPKG = S('dpkg', '1.21.22');
const LIBC = S('libc6', '2.36-9');
const CURL = S('curl', '7.88.1-10');
const B0 = F(DPKG, LIBC);

describe('dpkg-status: the table', () => {
  it.each([
    ['a package the host installed is kept', F(DPKG, LIBC), F(DPKG, LIBC, CURL), F(CURL, DPKG, LIBC)],
    ['a package the host removed stays removed', F(DPKG, LIBC), F(DPKG), F(DPKG)],
    ['a package the host purged to config-files keeps that stanza', F(DPKG, LIBC), F(DPKG, S('libc6', '2.36-9', { status: 'deinstall ok config-files' })), F(DPKG, S('libc6', '2.36-9', { status: 'deinstall ok config-files' }))],
    ["the host's upgrade is applied", F(DPKG, LIBC), F(DPKG, S('libc6', '2.36-10')), F(DPKG, S('libc6', '2.36-10'))],
    ["the base's upgrade of a package the host left alone is kept", F(S('dpkg', '1.22.0'), LIBC), F(DPKG, LIBC), F(S('dpkg', '1.22.0'), LIBC)],
    ["the base's new package and the host's both stay", F(DPKG, LIBC, S('zlib1g', '1.2.13')), F(DPKG, LIBC, CURL), F(CURL, DPKG, LIBC, S('zlib1g', '1.2.13'))],
    ['a package the base removed and the host left alone is gone', F(DPKG), F(DPKG, LIBC), F(DPKG)],
    ['the same upgrade made by both is no clash', F(DPKG, S('libc6', '2.36-10')), F(DPKG, S('libc6', '2.36-10')), F(DPKG, S('libc6', '2.36-10'))],
  ])('%s', (_, b1, u, want) => {
    expect(merged(B0, b1, u)).toEqual({ text: want.toString('latin1'), notes: [] });
  });

  it.each([
    ['both upgraded it, to different versions', F(DPKG, S('libc6', '2.36-11')), F(DPKG, S('libc6', '2.36-10')), F(DPKG, S('libc6', '2.36-11'))],
    ['the host removed it, the base upgraded it', F(DPKG, S('libc6', '2.36-11')), F(DPKG), F(DPKG, S('libc6', '2.36-11'))],
    ['the host upgraded it, the base removed it', F(DPKG), F(DPKG, S('libc6', '2.36-10')), F(DPKG)],
    ['the host deconfigured it, the base upgraded it', F(DPKG, S('libc6', '2.36-11')), F(DPKG, S('libc6', '2.36-9', { status: 'install ok half-configured' })), F(DPKG, S('libc6', '2.36-11'))],
  ])('the base wins, and says so, when %s', (_, b1, u, want) => {
    expect(merged(B0, b1, u)).toEqual({ text: want.toString('latin1'), notes: ["libc6:amd64: changed by the host and by the new base; the new base's stanza wins"] });
  });

  it('both installed the same new package at different versions: the base wins', () => {
    const r = mergeStatus(B0, F(DPKG, LIBC, S('curl', '8.0')), F(DPKG, LIBC, CURL));
    expect(r.kind === 'merged' && [r.content.toString('latin1'), r.baseWon]).toEqual([F(S('curl', '8.0'), DPKG, LIBC).toString('latin1'), ['curl:amd64']]);
  });
});

const LIBZ = (arch: string, v = '1') => S('libz', v, { arch, extra: ['Multi-Arch: same'] });
const TOOL = (arch: string, v = '1') => S('tool', v, { arch, extra: ['Multi-Arch: foreign'] });
/** Instances of one package on several architectures: [case, B0, B1, upper, merged, notes]. */
const MULTIARCH: [string, Buffer, Buffer, Buffer, Buffer, string[]][] = [
  ["Multi-Arch: same instances the host added sit beside the base's, by architecture as dpkg sorts", F(DPKG, LIBZ('amd64')), F(DPKG, LIBZ('amd64', '2')), F(DPKG, LIBZ('i386'), LIBZ('amd64'), LIBZ('arm64')), F(DPKG, LIBZ('amd64', '2'), LIBZ('arm64'), LIBZ('i386')), []],
  [
    "a package the host cross-graded and the base upgraded: the base's instance alone (dpkg reads no two of one package that are not Multi-Arch: same)",
    F(DPKG, TOOL('amd64')),
    F(DPKG, TOOL('amd64', '2')),
    F(DPKG, TOOL('arm64')),
    F(DPKG, TOOL('amd64', '2')),
    ["tool:amd64: changed by the host and by the new base; the new base's stanza wins", "tool:arm64: dpkg reads no instance of tool beside the new base's that is not Multi-Arch: same; the new base's instances win"],
  ],
  ['one package added by both on two architectures: the base\'s', F(DPKG), F(DPKG, TOOL('amd64')), F(DPKG, TOOL('i386')), F(DPKG, TOOL('amd64')), ["tool:i386: dpkg reads no instance of tool beside the new base's that is not Multi-Arch: same; the new base's instances win"]],
];

describe('dpkg-status: keys and order', () => {
  it('Package alone keys a stanza without Architecture; Architecture: all is a value like another', () => {
    const old = S('oldpkg', '1', { arch: null, status: 'purge ok not-installed' });
    const r = merged(F(DPKG, old), F(DPKG, old, S('tzdata', '2024a', { arch: 'all' })), F(DPKG, S('tzdata', '2023c', { arch: 'all' })));
    expect(r).toEqual({ text: F(DPKG, S('tzdata', '2024a', { arch: 'all' })).toString('latin1'), notes: ["tzdata:all: changed by the host and by the new base; the new base's stanza wins"] });
  });

  it.each(MULTIARCH)('multi-arch: %s', (_, b0, b1, u, want, notes) => {
    expect(merged(b0, b1, u)).toEqual({ text: want.toString('latin1'), notes });
  });

  it('continuation lines (Conffiles, Description) and odd spacing are kept byte for byte', () => {
    const odd = 'Package:   weird\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\nConffiles:\n /etc/weird.conf 0123456789abcdef0123456789abcdef\n /etc/old.conf 0123 obsolete\nDescription: a weird\n  package\n .\n with \t tabs \xe9\n';
    expect(merged(F(DPKG), F(DPKG), F(DPKG, odd)).text).toBe(F(DPKG, odd).toString('latin1'));
    expect(merged(F(DPKG), F(DPKG), F(DPKG, odd)).text.includes('\xe9')).toBe(true);
  });

  it('empty files, and blank lines before and between stanzas (dpkg skips them)', () => {
    expect(merged(F(), F(), F())).toEqual({ text: '', notes: [] });
    expect(merged(Buffer.alloc(0), Buffer.from(`\n\n${LIBC}\n\n\n${DPKG}`), Buffer.alloc(0)).text).toBe(F(DPKG, LIBC).toString('latin1'));
  });
});

/** Files dpkg cannot read (or reads with a warning), and what the driver says of each as the new base. */
const MALFORMED: [string, Buffer, string[]][] = [
  ['a stanza without Package', F(DPKG, 'Status: install ok installed\nVersion: 1\n'), ['the new base: the stanza at line 8 ("Status: install ok installed") has no Package field']],
  ['a line neither a field nor a continuation', F(DPKG, 'Package: bad\nthis is not a field\n'), ['the new base: the stanza at line 8 ("Package: bad") has line 9 "this is not a field", neither "Field: value" nor a continuation line']],
  ['a continuation with no field before it', Buffer.from(` orphan\n${DPKG}`), ['the new base: the stanza at line 1 (" orphan") has line 1 " orphan", neither "Field: value" nor a continuation line']],
  ['CRLF line ends', Buffer.from(F(DPKG, LIBC).toString('latin1').replace(/\n/g, '\r\n')), ['the new base: the stanza at line 1 ("Package: dpkg\\r") has a carriage return at line 1 (CRLF line ends): dpkg neither writes nor reads them']],
  ['a line of white space between stanzas', Buffer.from(`${DPKG}\n \t\n${LIBC}`), ['the new base: the stanza at line 8 (" \\t") has line 8 of white space only, which dpkg does not read as a blank line']],
  ['a line of white space in a stanza', Buffer.from(`${DPKG} \n${LIBC}`), ['the new base: the stanza at line 1 ("Package: dpkg") has line 7 of white space only, which dpkg does not read as a blank line']],
  ['no newline at the end', Buffer.from(DPKG.slice(0, -1)), ["the new base: the stanza at line 1 (\"Package: dpkg\") has no newline at the end of line 6, the file's last: dpkg cannot read that"]],
  ['two stanzas of one key', F(DPKG, LIBC, S('libc6', '2')), ['the new base: the stanza at line 15 ("Package: libc6") is a second stanza for libc6:amd64']],
];

describe('dpkg-status: malformed input is a conflict naming the file and the stanza', () => {
  it.each(MALFORMED)('%s', (_, b1, want) => {
    expect(dpkgStatusMerge(B0, b1, B0)).toEqual({ kind: 'conflict', conflicts: want });
  });

  it("each source is named: the old base, the host's copy", () => {
    const bad = Buffer.from('Version: 1\n');
    expect(dpkgStatusMerge(bad, B0, bad)).toEqual({ kind: 'conflict', conflicts: ['the old base: the stanza at line 1 ("Version: 1") has no Package field', 'the host\'s copy: the stanza at line 1 ("Version: 1") has no Package field'] });
  });
});

describe('dpkg-query agrees on what is malformed', () => {
  const work = scratch('so-merge-dpkg-status-');
  afterAll(() => removeTree(work));
  const query = async (status: Buffer) => {
    const root = dpkgRoot(fs.mkdtempSync(path.join(work, 'r-')));
    fs.writeFileSync(path.join(root, 'var/lib/dpkg/status'), status);
    return tryRun('dpkg-query', [`--root=${root}`, '-W']);
  };
  it('reads the multi-arch merges without a word, and refuses the key-by-key union of the cross-grade', async () => {
    for (const [, b0, b1, u, want] of MULTIARCH) for (const f of [b0, b1, u, want]) expect(await query(f)).toMatchObject({ exitCode: 0, stderr: '' });
    expect((await query(F(DPKG, TOOL('amd64', '2'), TOOL('arm64')))).stderr).toContain('multiple non-coinstallable package instances present');
  });
  it.each(MALFORMED)('%s: an error or a warning', async (_, b1) => {
    expect((await query(b1)).stderr).toMatch(/dpkg-query: (error|warning): parsing file/);
  });
});

describe('infoFollowStatus', () => {
  const db = (b: Buffer): StatusDb => {
    const p = parseStatus(b, 'test');
    if (p.kind !== 'parsed') throw new Error(p.problems.join('; '));
    return p.db;
  };
  const verdicts = (b0: Buffer, b1: Buffer, u: Buffer, names: string[]) => {
    const r = mergeStatus(b0, b1, u);
    if (r.kind !== 'merged') throw new Error(r.conflicts.join('; '));
    return Object.fromEntries(infoFollowStatus({ b0: db(b0), b1: db(b1), upper: db(u), merged: r.db }, names));
  };
  const ZLIB = (v: string, arch = 'amd64') => S('zlib1g', v, { arch, extra: ['Multi-Arch: same'] });

  it("a package whose merged stanza is the host's keeps the upper's files; the base's, or nobody's, drops them", () => {
    const b1 = F(DPKG, S('libc6', '2.36-11'), ZLIB('1.3'));
    const u = F(DPKG, S('libc6', '2.36-10'), CURL, ZLIB('1.2', 'i386'));
    expect(verdicts(F(DPKG, LIBC), b1, u, ['curl.list', 'curl.md5sums', 'libc6.list', 'libc6.postinst', 'zlib1g:i386.list', 'zlib1g:amd64.list', 'stray.list', 'format'])).toEqual({
      'curl.list': 'keep',
      'curl.md5sums': 'keep',
      'libc6.list': 'drop',
      'libc6.postinst': 'drop',
      'zlib1g:i386.list': 'keep',
      'zlib1g:amd64.list': 'drop',
      'stray.list': 'drop',
      format: 'other',
    });
  });

  it("a package the host removed and the base left alone: its whiteouts stay; the base's upgrade of it: they go", () => {
    expect(verdicts(F(DPKG, LIBC), F(DPKG, LIBC), F(DPKG), ['libc6.list'])).toEqual({ 'libc6.list': 'keep' });
    expect(verdicts(F(DPKG, LIBC), F(DPKG, S('libc6', '2.36-11')), F(DPKG), ['libc6.list'])).toEqual({ 'libc6.list': 'drop' });
  });

  it("a cross-grade the base's upgrade undid: the host's files of the package go", () => {
    expect(verdicts(F(DPKG, TOOL('amd64')), F(DPKG, TOOL('amd64', '2')), F(DPKG, TOOL('arm64')), ['tool.list'])).toEqual({ 'tool.list': 'drop' });
  });

  it("baseWonPaths: what the base's and the host's .list of each package the base won name", () => {
    const [b1, u] = [F(DPKG, S('libc6', '2.36-11'), ZLIB('1.3')), F(DPKG, S('libc6', '2.36-10'), ZLIB('1.2'))];
    const lists: Record<string, Record<string, string>> = {
      b1: { 'libc6.list': '/.\n/usr/lib/libc.so.6\n', 'zlib1g:amd64.list': '/usr/lib/libz.so.1.3\n' },
      upper: { 'libc6.list': '/.\n/usr/lib/libc.so.6\n/usr/lib/libc-old.so\n', 'zlib1g:amd64.list': '/usr/lib/libz.so.1.2\n', 'curl.list': '/usr/bin/curl\n' },
    };
    const read = (side: string) => (name: string) => (lists[side]![name] === undefined ? undefined : Buffer.from(lists[side]![name]!));
    const paths = baseWonPaths(['libc6:amd64', 'zlib1g:amd64'], { b1: db(b1), upper: db(u) }, { b1: read('b1'), upper: read('upper') });
    expect([...paths].sort()).toEqual(['/.', '/usr/lib/libc-old.so', '/usr/lib/libc.so.6', '/usr/lib/libz.so.1.2', '/usr/lib/libz.so.1.3']);
  });

  it('a package name with dots splits at the last dot', () => {
    const lib = S('libgtk-3.0', '3.24', { arch: 'all' });
    expect(verdicts(F(DPKG), F(DPKG), F(DPKG, lib), ['libgtk-3.0.list', 'libgtk-3.list'])).toEqual({ 'libgtk-3.0.list': 'keep', 'libgtk-3.list': 'drop' });
  });
});
