import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { UNREAD, type EntryType, type RelPath, type UpperEntry } from '../../src/model/entry.js';
import { classifyEntry } from '../../src/observe/classify.js';
import { withUpper, type ReadUpperOptions } from '../../src/observe/upper.js';

/** The upper read once and classified against the given base types, as every reader of it does. */
const readUpper = (dir: string, base: (p: RelPath) => EntryType | undefined, opts: ReadUpperOptions = {}) => withUpper(dir, opts, (u) => u.classify(base));
import { overlayXattrs, overlayXattrsFromNames, setOverlayXattr } from '../../src/tree/xattr.js';
import { NEWLINE, bpath, makeSocket, mknod, rel, scratch } from '../tree/fixtures.js';

const BASE: Record<string, EntryType> = {
  etc: 'dir',
  'etc/conf': 'file',
  'etc/deleted': 'file',
  opq: 'dir',
  'opq/x': 'file',
  uopq: 'dir',
  xdir: 'dir',
  'xdir/gone': 'file',
  'xdir/ugone': 'file',
  typechg: 'file',
  dir2file: 'dir',
  'dir2file/y': 'file',
  redir: 'dir',
  meta: 'file',
  shadowlink: 'file',
  [rel(NEWLINE)]: 'file',
};

type Row = [path: string, kind: UpperEntry['kind'], type: EntryType, extra?: Partial<UpperEntry>];
const EXPECTED: Row[] = [
  ['dir2file', 'shadow', 'file'],
  ['etc', 'merged-dir', 'dir'],
  ['etc/conf', 'shadow', 'file'],
  ['etc/deleted', 'whiteout', 'chr', { whiteout: 'chardev' }],
  ['etc/new', 'state', 'file'],
  ['fifo', 'state', 'fifo'],
  ['meta', 'foreign', 'file', { foreign: 'metacopy' }],
  [rel(NEWLINE), 'shadow', 'file'],
  ['newdir', 'state', 'dir'],
  ['newdir/f', 'state', 'file'],
  ['newdir/wh', 'state', 'chr'],
  ['null', 'state', 'chr'],
  ['opq', 'opaque-dir', 'dir'],
  ['opq/x', 'state', 'file'],
  ['opq/y', 'state', 'chr'],
  ['redir', 'foreign', 'dir', { foreign: 'redirect' }],
  ['redir/z', 'state', 'file'],
  ['shadowlink', 'shadow', 'symlink'],
  ['sock', 'state', 'socket'],
  ['typechg', 'shadow', 'dir'],
  ['typechg/in', 'state', 'file'],
  ['uopq', 'opaque-dir', 'dir'],
  ['xdir', 'merged-dir', 'dir'],
  ['xdir/gone', 'whiteout', 'file', { whiteout: 'xattr' }],
  ['xdir/nonzero', 'state', 'file'],
  ['xdir/notwh', 'state', 'file'],
  ['xdir/ugone', 'whiteout', 'file', { whiteout: 'xattr' }],
];

describe('the upper reader', () => {
  let upper: string;
  beforeAll(async () => {
    upper = scratch();
    const u = (p: string) => `${upper}/${p}`;
    for (const d of ['etc', 'newdir', 'opq', 'uopq', 'xdir', 'typechg', 'redir']) fs.mkdirSync(u(d));
    fs.writeFileSync(u('etc/conf'), 'edited\n');
    fs.writeFileSync(u('etc/new'), 'state\n');
    await mknod(u('etc/deleted'), 'c', 0, 0);
    fs.writeFileSync(u('newdir/f'), 'f');
    await mknod(u('newdir/wh'), 'c', 0, 0);
    setOverlayXattr(u('opq'), 'opaque', 'y');
    fs.writeFileSync(u('opq/x'), 'x');
    await mknod(u('opq/y'), 'c', 0, 0);
    setOverlayXattr(u('uopq'), 'opaque', 'y', 'user');
    setOverlayXattr(u('xdir'), 'opaque', 'x');
    fs.writeFileSync(u('xdir/gone'), '');
    setOverlayXattr(u('xdir/gone'), 'whiteout', '');
    fs.writeFileSync(u('xdir/ugone'), '');
    setOverlayXattr(u('xdir/ugone'), 'whiteout', '', 'user');
    fs.writeFileSync(u('xdir/notwh'), '');
    fs.writeFileSync(u('xdir/nonzero'), 'data');
    setOverlayXattr(u('xdir/nonzero'), 'whiteout', '');
    fs.writeFileSync(u('typechg/in'), 'in');
    fs.writeFileSync(u('dir2file'), 'now a file');
    setOverlayXattr(u('redir'), 'redirect', '/elsewhere');
    fs.writeFileSync(u('redir/z'), 'z');
    fs.writeFileSync(u('meta'), '');
    setOverlayXattr(u('meta'), 'metacopy', '');
    fs.symlinkSync('/etc/shadow', u('shadowlink'));
    fs.writeFileSync(bpath(upper, NEWLINE), 'edited');
    await makeSocket(u('sock'));
    await mknod(u('null'), 'c', 1, 3);
    await run('mkfifo', [u('fifo')]);
  });
  afterAll(() => fs.rmSync(upper, { recursive: true, force: true }));

  it('classifies every upper entry exactly', () => {
    const errors: string[] = [];
    const got = [...readUpper(upper, (p) => BASE[p], { onError: (p, e) => errors.push(`${p}: ${e.message}`) })];
    expect(errors).toEqual([]);
    expect(got.map((e) => [e.path, e.kind, e.type, { ...(e.foreign ? { foreign: e.foreign } : {}), ...(e.whiteout ? { whiteout: e.whiteout } : {}) }])).toEqual(
      EXPECTED.map(([p, k, t, x]) => [p, k, t, x ?? {}]),
    );
    const conf = got.find((e) => e.path === 'etc/conf')!;
    expect(conf).toMatchObject({ mode: 0o644, uid: 0, gid: 0, size: 7, digest: UNREAD });
  });

  it('honours only the namespaces asked for', () => {
    const got = new Map([...readUpper(upper, (p) => BASE[p], { namespaces: ['trusted'] })].map((e) => [e.path, e.kind]));
    expect(got.get(rel('uopq'))).toBe('merged-dir');
    expect(got.get(rel('xdir/ugone'))).toBe('shadow');
    expect(got.get(rel('opq'))).toBe('opaque-dir');
  });

  it('reads the overlay xattrs of the entry itself, in both namespaces', () => {
    expect(overlayXattrs(`${upper}/xdir`)).toEqual({ opaque: 'x', whiteout: false, metacopy: false, namespaces: ['trusted'] });
    expect(overlayXattrs(`${upper}/uopq`)).toEqual({ opaque: 'y', whiteout: false, metacopy: false, namespaces: ['user'] });
    expect(overlayXattrs(`${upper}/redir`).redirect?.toString()).toBe('/elsewhere');
    expect(overlayXattrs(`${upper}/shadowlink`)).toEqual({ whiteout: false, metacopy: false, namespaces: [] });
    expect(() => overlayXattrs(`${upper}/missing`)).toThrow(`open ${upper}/missing: ENOENT`);
    expect(() => setOverlayXattr(`${upper}/shadowlink`, 'opaque', 'y', 'user')).toThrow(`set user.overlay.opaque on ${upper}/shadowlink: EPERM`);
  });
});

describe('overlayXattrsFromNames', () => {
  const none = { whiteout: false, metacopy: false, namespaces: [] };
  it.each([
    [[], undefined, none],
    [['user.mime'], undefined, { ...none, others: true }],
    [['security.selinux', 'system.posix_acl_access'], undefined, { ...none, others: true }],
    [['trusted.overlay.opaque'], undefined, undefined],
    [['user.overlay.whiteout'], undefined, undefined],
    [['user.overlay.whiteout'], ['trusted'], none],
    [['user.overlay.whiteout', 'user.mime'], ['trusted'], { ...none, others: true }],
    [['trusted.overlay.origin'], ['trusted'], undefined],
  ] as const)('%j in %j: %j (undefined: the values must be read)', (names, namespaces, want) => {
    expect(overlayXattrsFromNames(names, namespaces)).toEqual(want);
  });
});

describe('classifyEntry', () => {
  const none = { whiteout: false, metacopy: false, namespaces: [] };
  it.each([
    ['file over nothing', { type: 'file', rdev: 0, size: 3 }, none, undefined, { kind: 'state' }],
    ['file over file', { type: 'file', rdev: 0, size: 3 }, none, 'file', { kind: 'shadow' }],
    ['symlink over dir', { type: 'symlink', rdev: 0, size: 3 }, none, 'dir', { kind: 'shadow' }],
    ['dir over dir', { type: 'dir', rdev: 0, size: 3 }, none, 'dir', { kind: 'merged-dir' }],
    ['dir over file', { type: 'dir', rdev: 0, size: 3 }, none, 'file', { kind: 'shadow' }],
    ['opaque y dir over nothing', { type: 'dir', rdev: 0, size: 3 }, { ...none, opaque: 'y' }, undefined, { kind: 'opaque-dir' }],
    ['opaque x dir over dir', { type: 'dir', rdev: 0, size: 3 }, { ...none, opaque: 'x' }, 'dir', { kind: 'merged-dir' }],
    ['chr 0:0 over nothing', { type: 'chr', rdev: 0, size: 0 }, none, undefined, { kind: 'whiteout', whiteout: 'chardev' }],
    ['chr 1:3', { type: 'chr', rdev: 259, size: 0 }, none, 'file', { kind: 'shadow' }],
    ['xattr whiteout', { type: 'file', rdev: 0, size: 0 }, { ...none, whiteout: true }, 'file', { kind: 'whiteout', whiteout: 'xattr' }],
    ['non-empty file with whiteout xattr', { type: 'file', rdev: 0, size: 1 }, { ...none, whiteout: true }, 'file', { kind: 'shadow' }],
    ['redirect', { type: 'dir', rdev: 0, size: 0 }, { ...none, redirect: Buffer.from('x') }, 'dir', { kind: 'foreign', foreign: 'redirect' }],
    ['metacopy', { type: 'file', rdev: 0, size: 0 }, { ...none, metacopy: true }, 'file', { kind: 'foreign', foreign: 'metacopy' }],
  ] as const)('%s', (_name, e, x, base, want) => {
    expect(classifyEntry(e, x, base)).toEqual(want);
  });
});
