import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADDON_FROM_MODULE, flock, hashRange, listXattrAt, hashStream, hashStreamDigest, hashStreamFeed, mount, syncfs, utimens } from '../../src/native/syscalls.js';
import { run } from '../../src/exec.js';
import { propagation, readMountinfo, topMountAt } from '../../src/mount/mountinfo.js';
import { removeTree, scratch } from '../tree/fixtures.js';

let root: string;
const fds: number[] = [];
beforeEach(() => {
  root = scratch('so-native-');
});
afterEach(async () => {
  for (const fd of fds.splice(0)) fs.closeSync(fd);
  await removeTree(root);
});

/** A new open file description of the same file (flock(2) locks belong to those, not to processes). */
const open = (file: string, flags = 'a+') => {
  const fd = fs.openSync(file, flags);
  fds.push(fd);
  return fd;
};

describe('flock', () => {
  it.each([
    ['exclusive', 'exclusive', false],
    ['exclusive', 'shared', false],
    ['shared', 'exclusive', false],
    ['shared', 'shared', true],
  ] as const)('%s held, %s asked: %s, without blocking', (held, asked, granted) => {
    const file = path.join(root, 'lock');
    const a = open(file);
    const b = open(file);
    expect(flock(a, held)).toBe(true);
    expect(flock(b, asked)).toBe(granted);
    expect(flock(a, 'unlock')).toBe(true);
    expect(flock(b, asked)).toBe(true);
  });

  it('locks through a read-only fd, as flock(1) does', () => {
    const file = path.join(root, 'lock');
    fs.writeFileSync(file, '');
    expect(flock(open(file, 'r'), 'exclusive')).toBe(true);
    expect(flock(open(file), 'shared')).toBe(false);
  });

  it("throws other failures as Node's fs does: code, negative errno, syscall", () => {
    const fd = open(path.join(root, 'lock'));
    fs.closeSync(fds.pop()!);
    let thrown: unknown;
    try {
      flock(fd, 'exclusive');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'flock', message: 'EBADF: Bad file descriptor, flock' });
  });

  it.each([
    [[0, 'exclusively'], 'ERR_INVALID_ARG_VALUE', 'op: expected exclusive, shared or unlock'],
    [[0, 1], 'ERR_INVALID_ARG_VALUE', 'op: expected exclusive, shared or unlock'],
    [['0', 'shared'], 'ERR_INVALID_ARG_TYPE', 'fd: expected an integer'],
  ])('refuses arguments %j: %s, %s', (args, code, message) => {
    expect(() => (flock as (...a: unknown[]) => boolean)(...args)).toThrow(expect.objectContaining({ name: 'TypeError', code, message }));
  });
});

describe('syncfs', () => {
  const addon = new URL(`../../src/native/${ADDON_FROM_MODULE}`, import.meta.url).pathname;
  /** A node process that syncfs()es the filesystem of dir through the addon, under strace with extra arguments. */
  const traced = (dir: string, ...strace: string[]) =>
    spawnSync('strace', ['-f', '-qq', '-e', 'trace=syncfs', ...strace, process.execPath, '-e', `
      const fd = require('node:fs').openSync(${JSON.stringify(dir)}, 'r');
      try { require(${JSON.stringify(addon)}).syncfs(fd); console.log('done'); }
      catch (err) { console.log(JSON.stringify({ code: err.code, errno: err.errno, syscall: err.syscall, message: err.message })); }`], { encoding: 'utf8' });

  it('makes exactly one syncfs(2) call on the fd it is given', () => {
    const r = traced(root);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('done\n');
    const calls = r.stderr.split('\n').filter((l) => /syncfs\(/.test(l));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/syncfs\(\d+\) += 0$/);
  });

  it('throws a failure of the call itself (EIO injected by strace) as Node does', () => {
    const r = traced(root, '-e', 'inject=syncfs:error=EIO');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ code: 'EIO', errno: -5, syscall: 'syncfs', message: 'EIO: Input/output error, syncfs' });
  });

  it('names the path in an io error, the errno error its cause', () => {
    const fd = open(root, 'r');
    fs.closeSync(fds.pop()!);
    let thrown: unknown;
    try {
      syncfs(fd, root);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'io', path: root, message: `syncfs ${root}: EBADF`, cause: { code: 'EBADF', syscall: 'syncfs' } });
  });

  it('returns once the filesystem of an open fd is written back', () => {
    const file = path.join(root, 'f');
    fs.writeFileSync(file, 'data');
    expect(syncfs(open(file, 'r'), file)).toBeUndefined();
  });
});

describe('listXattrAt', () => {
  const addon = new URL(`../../src/native/${ADDON_FROM_MODULE}`, import.meta.url).pathname;
  const dirFd = () => open(root, 'r');

  /** root/f with the xattrs given, root/bare with none, root/l a symlink to f. */
  const entries = async (xattrs: Record<string, string>) => {
    const { setAttributeSync } = await import('fs-xattr');
    fs.writeFileSync(path.join(root, 'f'), '');
    fs.writeFileSync(path.join(root, 'bare'), '');
    for (const [k, v] of Object.entries(xattrs)) setAttributeSync(path.join(root, 'f'), k, v);
    fs.symlinkSync('f', path.join(root, 'l'));
    return setAttributeSync;
  };

  it("lists the entry's own names, overlay's included, a symlink's and not its target's, [] without any", async () => {
    const setAttributeSync = await entries({ 'user.k': 'v', 'trusted.overlay.opaque': 'y' });
    const fd = dirFd();
    expect(listXattrAt(fd, Buffer.from('f')).sort()).toEqual(['trusted.overlay.opaque', 'user.k']);
    expect(listXattrAt(fd, Buffer.from('bare'))).toEqual([]);
    expect(listXattrAt(fd, Buffer.from('l'))).toEqual([]);
    const link = fs.openSync(path.join(root, 'l'), 0o10000000 | fs.constants.O_NOFOLLOW);
    try {
      setAttributeSync(`/proc/self/fd/${link}`, 'trusted.own', '1');
    } finally {
      fs.closeSync(link);
    }
    expect(listXattrAt(fd, Buffer.from('l'))).toEqual(['trusted.own']);
  });

  it('throws a missing entry as Node does, and refuses a name that is not one', () => {
    const fd = dirFd();
    expect(() => listXattrAt(fd, Buffer.from('gone'))).toThrow(expect.objectContaining({ code: 'ENOENT', errno: -2, syscall: 'listxattrat' }));
    for (const bad of ['a/b', '', 'x'.repeat(256)]) {
      expect(() => listXattrAt(fd, Buffer.from(bad))).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
    }
  });

  /** node running `script` (with `addon`, `fd` on root and `names` in scope), its last stdout line parsed; under `wrap` when given. */
  const inNode = (script: string, wrap: string[] = []) => {
    const argv = [...wrap, process.execPath, '-e', `
      const addon = require(${JSON.stringify(addon)});
      const fd = require('node:fs').openSync(${JSON.stringify(root)}, 'r');
      const names = Buffer.from('f\\0bare\\0l\\0gone\\0');
      ${script}`];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return { out: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as unknown, stderr: r.stderr };
  };
  // Each entry's list (or error) by listXattrAt, and statAt's lists of the four with their slots.
  const LISTINGS = `
    const one = (n) => { try { return addon.listXattrAt(fd, Buffer.from(n)); } catch (err) { return { code: err.code }; } };
    const [records, lists] = addon.statAt(fd, names, 0, 4, false, true);
    const slots = Array.from(new Float64Array(records)).filter((_, k) => k % 22 >= 19);
    console.log(JSON.stringify({ each: ['f', 'bare', 'l', 'gone'].map(one), slots, lists: lists.toString('latin1') }));`;
  let seccomp: string;
  const LISTXATTRAT = '465';
  const errno = (name: string) => String(os.constants.errno[name as keyof typeof os.constants.errno]);
  beforeAll(async () => {
    const dir = scratch('so-seccomp-');
    seccomp = path.join(dir, 'seccomp-errno');
    await run('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', seccomp, new URL('./seccomp-errno.c', import.meta.url).pathname]);
  });

  it.each([
    ['a kernel lacks it', 'ENOSYS'],
    ["a seccomp filter older than it refuses it (systemd's SystemCallErrorNumber=EPERM)", 'EPERM'],
  ])('lists through listxattrat(2), and the same through /proc/self/fd where %s (%s)', async (_, refusal) => {
    await entries({ 'user.k': 'v', 'user.z': 'w' });
    const traced = ['strace', '-f', '-qq', '-e', 'trace=llistxattr'];
    const here = inNode(LISTINGS, traced);
    expect(here.out).toMatchObject({ each: ['user.k\0user.z\0', '', '', { code: 'ENOENT' }], lists: 'user.k\0user.z\0' });
    expect(here.stderr).not.toMatch(/llistxattr\(/);
    const without = inNode(LISTINGS, [...traced, seccomp, LISTXATTRAT, errno(refusal)]);
    expect(without.out).toEqual(here.out);
    // Every listing goes to the path then (statAt lists
    // none for the entry whose statx failed: 4 + 3).
    expect(without.stderr.match(/llistxattr\("\/proc\/self\/fd\/\d+\/(f|bare|l|gone)"/g)).toHaveLength(7);
  });

  it.each([
    ['listxattrat', 'EOPNOTSUPP', '""'],
    ['listxattrat', 'EIO', '{"code":"EIO","syscall":"listxattrat"}'],
    ['llistxattr', 'EOPNOTSUPP', '""'],
    ['llistxattr', 'EIO', '{"code":"EIO","syscall":"llistxattr"}'],
  ])('%s failing with %s: %s', (call, name, out) => {
    fs.writeFileSync(path.join(root, 'f'), '');
    const script = `try { console.log(JSON.stringify(addon.listXattrAt(fd, Buffer.from('f')))); }
      catch (err) { console.log(JSON.stringify({ code: err.code, syscall: err.syscall })); }`;
    const wrap = call === 'listxattrat'
      ? [seccomp, LISTXATTRAT, errno(name)]
      : ['strace', '-f', '-qq', '-e', 'trace=llistxattr', '-e', `inject=llistxattr:error=${name}`, seccomp, LISTXATTRAT, errno('ENOSYS')];
    expect(JSON.stringify(inNode(script, wrap).out)).toBe(out);
  });
});

describe('mount', () => {
  const mounted: string[] = [];
  afterEach(() => {
    for (const m of mounted.splice(0).reverse()) spawnSync('umount', ['-l', m]);
  });
  const dirs = (...names: string[]) => names.map((n) => {
    fs.mkdirSync(path.join(root, n));
    return path.join(root, n);
  });

  it('makes the calls a private read-only bind takes, each with exactly the flags named', () => {
    const [from, to] = dirs('from', 'to');
    fs.writeFileSync(path.join(from!, 'f'), 'x');
    mount(from!, to!, null, ['bind'], null);
    mounted.push(to!);
    mount(null, to!, null, ['private'], null);
    mount(null, to!, null, ['remount', 'bind', 'rdonly'], null);
    const top = topMountAt(readMountinfo(), fs.realpathSync(to!))!;
    expect([propagation(top), top.mountOptions.includes('ro')]).toEqual(['private', true]);
    expect(fs.readFileSync(path.join(to!, 'f'), 'utf8')).toBe('x');
    expect(() => fs.writeFileSync(path.join(to!, 'g'), 'y')).toThrow(/EROFS/);
  });

  it('mounts a filesystem with its type and options string', () => {
    const [lower, upper, work, target] = dirs('lower', 'upper', 'work', 'target');
    fs.writeFileSync(path.join(lower!, 'f'), 'base');
    mount('overlay', target!, 'overlay', ['nosuid', 'nodev'], `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
    mounted.push(target!);
    const top = topMountAt(readMountinfo(), fs.realpathSync(target!))!;
    expect(top).toMatchObject({ fstype: 'overlay', source: 'overlay' });
    expect(top.mountOptions).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
    fs.writeFileSync(path.join(target!, 'f'), 'changed');
    expect([fs.readFileSync(path.join(upper!, 'f'), 'utf8'), fs.readFileSync(path.join(lower!, 'f'), 'utf8')]).toEqual(['changed', 'base']);
  });

  it("throws failures as Node's fs does and refuses flags it does not know, mounting nothing", () => {
    const [target] = dirs('target');
    const before = readMountinfo().length;
    expect(() => mount('overlay', target!, 'overlay', [], 'lowerdir=/nonexistent-lower')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'mount' }));
    expect(() => mount(path.join(root, 'none'), target!, null, ['bind'], null)).toThrow(expect.objectContaining({ code: 'ENOENT', errno: -2, message: 'ENOENT: No such file or directory, mount' }));
    expect(() => mount(root, target!, null, ['bind', 'rec' as never], null)).toThrow('flags: expected names among bind, nodev, nosuid, private, rdonly, remount');
    expect(() => mount(root, null as never, null, ['bind'], null)).toThrow('target: expected a string');
    expect(readMountinfo()).toHaveLength(before);
  });
});

describe('utimens', () => {
  const times = (p: string) => {
    const st = fs.lstatSync(p, { bigint: true });
    return [st.atimeNs, st.mtimeNs];
  };

  it('sets an open file\'s times to the nanosecond, before 1970 too', () => {
    const file = path.join(root, 'f');
    fs.writeFileSync(file, 'x');
    const fd = open(file);
    utimens(fd, null, -315_619_199_500_000_001n, 1_234_567_890_123_456_789n);
    expect(times(file)).toEqual([-315_619_199_500_000_001n, 1_234_567_890_123_456_789n]);
    utimens(fd, null, -1n, -750_000_000n);
    expect(times(file)).toEqual([-1n, -750_000_000n]);
  });

  it('sets a symlink\'s own times by path, never its target\'s', () => {
    const target = path.join(root, 't');
    fs.writeFileSync(target, 'x');
    const before = times(target);
    fs.symlinkSync('t', path.join(root, 'l'));
    utimens(-100, Buffer.from(path.join(root, 'l')), 5n, -5n);
    expect(times(path.join(root, 'l'))).toEqual([5n, -5n]);
    expect(times(target)).toEqual(before);
  });

  it("throws failures as Node's fs does, and rejects times that are not 64-bit bigints", () => {
    expect(() => utimens(-100, Buffer.from(path.join(root, 'missing')), 0n, 0n)).toThrow(expect.objectContaining({ code: 'ENOENT', errno: -2, syscall: 'utimensat' }));
    expect(() => utimens(1 << 20, null, 0n, 0n)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'futimens' }));
    expect(() => utimens(0, null, 2n ** 64n, 0n)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => utimens(0, null, 0 as unknown as bigint, 0n)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('hashStream', () => {
  it('hashes on the pool what it is fed, in the order fed, with other pool work between the feeds', async () => {
    // A thousand feeds of 1 to 64 KiB, queued at once, with whole-file hashes queued among them: the
    // pool's four threads take them in any number at a time, the stream's order holds.
    const file = path.join(root, 'f');
    fs.writeFileSync(file, crypto.randomBytes(1 << 20));
    const fd = open(file, 'r');
    const parts = Array.from({ length: 1000 }, (_, i) => crypto.randomBytes(1 + ((i * 7919) % 65536)));
    const h = hashStream();
    const others: Promise<Buffer>[] = [];
    for (const [i, b] of parts.entries()) {
      hashStreamFeed(h, b);
      if (i % 100 === 0) others.push(hashRange(fd, 0, 1 << 20));
    }
    hashStreamFeed(h, Buffer.alloc(0));
    const digest = await hashStreamDigest(h);
    expect(digest.toString('hex')).toBe(crypto.createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
    for (const d of await Promise.all(others)) expect(d.toString('hex')).toBe(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
  });

  it('hashes nothing as the sha256 of nothing, and ends with its digest', async () => {
    const h = hashStream();
    expect((await hashStreamDigest(h)).toString('hex')).toBe(crypto.createHash('sha256').digest('hex'));
    await expect(hashStreamDigest(h)).rejects.toThrow('hashStreamDigest: the stream has ended (its digest was taken)');
  });
});

describe('hashRange', () => {
  it('hashes a byte range of the file from a dup of fd, which the caller may close at once', async () => {
    const file = path.join(root, 'f');
    const bytes = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 7) & 0xff));
    fs.writeFileSync(file, bytes);
    const fd = fs.openSync(file, 'r');
    const digest = hashRange(fd, 5, bytes.length - 37);
    fs.closeSync(fd);
    // A file opened meanwhile may take the number: it is not what is read.
    fds.push(fs.openSync(path.join(root, 'other'), 'w+'));
    expect((await digest).toString('hex')).toBe(crypto.createHash('sha256').update(bytes.subarray(5, bytes.length - 32)).digest('hex'));
  });

  it('rejects a range past the end of the file with EIO, and a bad fd with EBADF', async () => {
    const file = path.join(root, 'short');
    fs.writeFileSync(file, 'abc');
    const fd = open(file, 'r');
    await expect(hashRange(fd, 0, 4)).rejects.toMatchObject({ code: 'EIO', syscall: 'pread' });
    expect((await hashRange(fd, 1, 2)).toString('hex')).toBe(crypto.createHash('sha256').update('bc').digest('hex'));
    expect(() => hashRange(1 << 20, 0, 1)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'dup' }));
  });
});
