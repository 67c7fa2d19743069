// Package class records in a manifest: before the entries, not counted, read by themselves or skipped.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeClasses } from '../../src/manifest/classes.js';
import { encodeEntry, parseManifest, type ManifestEntry } from '../../src/manifest/format.js';
import { encodeManifest } from '../../src/manifest/encode.js';
import { buildManifest } from '../../src/manifest/build.js';
import { openManifestView } from '../../src/manifest/lookup.js';
import { readClasses } from '../../src/manifest/store.js';
import type { PackageClass, PackageClasses } from '../../src/model/package-class.js';
import type { RelPath } from '../../src/model/entry.js';
import { INVALID_UTF8, rel, removeTree, scratch } from '../tree/fixtures.js';
import { v1Header } from './v1.js';

const ENTRY: ManifestEntry = { path: rel('etc'), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 4096, digest: '' };
const cls = (over: Partial<PackageClass>): PackageClass => ({ db: 'dpkg', pkg: 'app', config: true, noreplace: false, missingok: false, ghost: false, obsolete: false, ...over });
const CLASSES: PackageClasses = {
  dbs: ['dpkg', 'rpm'],
  byPath: new Map<RelPath, PackageClass>([
    [rel('etc/a.conf'), cls({})],
    [rel('etc/old.conf'), cls({ obsolete: true })],
    [rel('etc', INVALID_UTF8), cls({ db: 'rpm', pkg: 'pkg-é', noreplace: true, missingok: true })],
    [rel('run/x.pid'), cls({ db: 'rpm', config: false, ghost: true })],
  ]),
};
const dir = scratch('so-classes-');
afterAll(async () => removeTree(dir));

describe('class records', () => {
  it.each([
    ['version 2', encodeManifest([ENTRY], CLASSES)],
    ['version 1', Buffer.concat([v1Header(1), ...encodeClasses(CLASSES), encodeEntry(ENTRY)])],
  ])('round-trip every flag, both databases and any byte in a name; entry readers skip them (%s)', (_v, bytes) => {
    const file = path.join(dir, 'm1');
    fs.writeFileSync(file, bytes);
    const back = readClasses(file);
    expect(back.dbs).toEqual(['dpkg', 'rpm']);
    expect(new Map([...back.byPath].sort())).toEqual(new Map([...CLASSES.byPath].sort()));
    expect(parseManifest(bytes)).toEqual([ENTRY]);
    const view = openManifestView(file);
    expect(view.get(rel('etc'))).toEqual(ENTRY);
    view.close();
  });

  it('a manifest without them predates classes: dbs null', () => {
    const file = path.join(dir, 'm2');
    fs.writeFileSync(file, encodeManifest([ENTRY]));
    expect(readClasses(file)).toEqual({ dbs: null, byPath: new Map() });
    fs.writeFileSync(file, Buffer.concat([v1Header(1), encodeEntry(ENTRY)]));
    expect(readClasses(file)).toEqual({ dbs: null, byPath: new Map() });
  });

  it('an image without a database records that it looked: dbs []', async () => {
    const base = path.join(dir, 'base');
    fs.mkdirSync(path.join(base, 'etc'), { recursive: true });
    const file = path.join(dir, 'm3');
    await buildManifest(base, file, { classes: { dbs: [], byPath: new Map() } });
    expect(readClasses(file)).toEqual({ dbs: [], byPath: new Map() });
    expect([...openManifestView(file).under(rel(''))].map((e) => e.path)).toEqual(['etc']);
  });

  it('refuses a class record after the entries, in both readers (version 1: version 2 has no place for one)', () => {
    const [dbs] = encodeClasses(CLASSES);
    const bytes = Buffer.concat([v1Header(1), encodeEntry(ENTRY), dbs!]);
    const file = path.join(dir, 'm5');
    fs.writeFileSync(file, bytes);
    const at = 16 + encodeEntry(ENTRY).length;
    expect(() => parseManifest(bytes, file)).toThrow(`${file}: record at byte ${at}: a class record after the entries`);
    expect(() => openManifestView(file)).toThrow(`${file}: record at byte ${at}: a class record after the entries`);
  });

  it('refuses unknown flags, naming the record', () => {
    const [dbs, first] = encodeClasses(CLASSES);
    const bad = Buffer.from(first!);
    bad[5] = 0xc0;
    const file = path.join(dir, 'm4');
    fs.writeFileSync(file, Buffer.concat([v1Header(0), dbs!, bad]));
    expect(() => readClasses(file)).toThrow(`${file}: record at byte 22: unknown class flags 0xc0`);
  });
});
