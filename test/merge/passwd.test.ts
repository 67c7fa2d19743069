// The passwd driver, table-tested per file, and its merged databases checked by pwck and grpck.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { passwdDriver, type PasswdFile } from '../../src/merge/passwd.js';

const L = (...lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');
const merge = (file: PasswdFile, b0: Buffer, b1: Buffer, u: Buffer) => passwdDriver(file)(b0, b1, u);
const text = (r: ReturnType<typeof merge>) => (r.kind === 'merged' ? r.content.toString('latin1').split('\n').filter(Boolean) : r.conflicts);

const ROOT = 'root:x:0:0:root:/root:/bin/sh';
const DAEMON = 'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin';

describe('passwd', () => {
  const b0 = L(ROOT, DAEMON);
  it("the host's and the new base's added users both survive, base order first", () => {
    const r = merge('passwd', b0, L(ROOT, DAEMON, 'svc:x:998:998::/var/lib/svc:/usr/sbin/nologin'), L(ROOT, DAEMON, 'alice:x:1000:1000:Alice:/home/alice:/bin/sh'));
    expect(text(r)).toEqual([ROOT, DAEMON, 'svc:x:998:998::/var/lib/svc:/usr/sbin/nologin', 'alice:x:1000:1000:Alice:/home/alice:/bin/sh']);
  });
  it("the host's change of one field and the base's of another both apply", () => {
    const r = merge('passwd', b0, L(ROOT, 'daemon:x:1:1:daemon:/usr/sbin:/bin/false'), L('root:x:0:0:root:/root:/bin/bash', DAEMON));
    expect(text(r)).toEqual(['root:x:0:0:root:/root:/bin/bash', 'daemon:x:1:1:daemon:/usr/sbin:/bin/false']);
  });
  it('a user the host removed stays removed', () => {
    expect(text(merge('passwd', b0, L(ROOT, DAEMON, 'svc:x:998:998::/:/bin/false'), L(ROOT)))).toEqual([ROOT, 'svc:x:998:998::/:/bin/false']);
  });
  it('a user the base removed goes, unless the host changed it', () => {
    expect(text(merge('passwd', b0, L(ROOT), L(ROOT, DAEMON)))).toEqual([ROOT]);
    expect(text(merge('passwd', b0, L(ROOT), L(ROOT, 'daemon:x:1:1:daemon:/usr/sbin:/bin/sh')))).toEqual(['passwd: daemon was changed by the host and removed by the new base']);
  });
  it.each([
    ['the same field changed both ways', L('root:x:0:0:root:/root:/bin/zsh', DAEMON), L('root:x:0:0:root:/root:/bin/bash', DAEMON), ['passwd: root field 7 changed by both: the host\'s "/bin/bash", the new base\'s "/bin/zsh"']],
    ['the same name added by both, differently', L(ROOT, DAEMON, 'app:x:998:998::/:/bin/false'), L(ROOT, DAEMON, 'app:x:1001:1001::/home/app:/bin/sh'), ['passwd: app was added by both the host and the new base, differently']],
    ['a UID the host and the base each gave a new user', L(ROOT, DAEMON, 'svc:x:1000:1000::/:/bin/false'), L(ROOT, DAEMON, 'alice:x:1000:1000::/home/alice:/bin/sh'), ["passwd: the host's alice and the new base's svc have the same id 1000"]],
  ])('conflict: %s', (_, b1, u, want) => {
    expect(merge('passwd', b0, b1, u)).toEqual({ kind: 'conflict', conflicts: want });
  });
});

describe('group and gshadow members merge as sets', () => {
  it('members the host added and the base added are all there; one the host removed is gone', () => {
    const r = merge('group', L('adm:x:4:syslog,bob'), L('adm:x:4:syslog,bob,svc'), L('adm:x:4:syslog,alice'));
    expect(text(r)).toEqual(['adm:x:4:syslog,svc,alice']);
  });
  it('gshadow: administrators and members both', () => {
    const r = merge('gshadow', L('adm:*:root:syslog'), L('adm:*:root,svc:syslog'), L('adm:*:root:syslog,alice'));
    expect(text(r)).toEqual(['adm:*:root,svc:syslog,alice']);
  });
  it('a GID collision between added groups is a conflict', () => {
    expect(text(merge('group', L('root:x:0:'), L('root:x:0:', 'svc:x:1000:'), L('root:x:0:', 'alice:x:1000:')))).toEqual(["group: the host's alice and the new base's svc have the same id 1000"]);
  });
});

describe('subuid and subgid hold ranges per user', () => {
  it("a second range the host gave a user is kept beside the base's", () => {
    expect(text(merge('subuid', L('svc:100000:65536'), L('svc:100000:65536', 'ci:165536:65536'), L('svc:100000:65536', 'svc:231072:65536')))).toEqual(['svc:100000:65536', 'ci:165536:65536', 'svc:231072:65536']);
  });
});

describe('the merged databases pass pwck and grpck', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-merge-passwd-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('host-added alice and base-added svc: consistent files, both found', () => {
    const db = {
      passwd: [L(ROOT, 'bin:x:2:2:bin:/bin:/usr/sbin/nologin'), L(ROOT, 'bin:x:2:2:bin:/bin:/usr/sbin/nologin', 'svc:x:998:998::/var/lib/svc:/usr/sbin/nologin'), L(ROOT, 'bin:x:2:2:bin:/bin:/usr/sbin/nologin', 'alice:x:1000:1000:Alice:/home/alice:/bin/sh')],
      shadow: [L('root:*:19000:0:99999:7:::', 'bin:*:19000:0:99999:7:::'), L('root:*:19000:0:99999:7:::', 'bin:*:19000:0:99999:7:::', 'svc:!:19500::::::'), L('root:*:19000:0:99999:7:::', 'bin:*:19000:0:99999:7:::', 'alice:$6$salt$hash:19600:0:99999:7:::')],
      group: [L('root:x:0:', 'bin:x:2:', 'users:x:100:'), L('root:x:0:', 'bin:x:2:', 'users:x:100:', 'svc:x:998:'), L('root:x:0:', 'bin:x:2:', 'users:x:100:alice', 'alice:x:1000:')],
      gshadow: [L('root:*::', 'bin:*::', 'users:*::'), L('root:*::', 'bin:*::', 'users:*::', 'svc:!::'), L('root:*::', 'bin:*::', 'users:*::alice', 'alice:!::')],
    } as const;
    fs.mkdirSync(path.join(root, 'etc'));
    for (const [file, [b0, b1, u]] of Object.entries(db)) {
      const r = merge(file as PasswdFile, b0, b1, u);
      expect(r.kind, file).toBe('merged');
      if (r.kind === 'merged') fs.writeFileSync(path.join(root, 'etc', file), r.content, { mode: file.endsWith('shadow') ? 0o640 : 0o644 });
    }
    for (const d of ['root', 'bin', 'var/lib/svc', 'home/alice', 'usr/sbin']) fs.mkdirSync(path.join(root, d), { recursive: true });
    for (const sh of ['bin/sh', 'usr/sbin/nologin']) fs.writeFileSync(path.join(root, sh), '', { mode: 0o755 });
    for (const tool of ['pwck', 'grpck']) {
      const r = spawnSync(tool, ['-r', '-R', root], { encoding: 'utf8' });
      expect(r.status, `${tool}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const passwd = fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    expect(passwd.split('\n').map((l) => l.split(':')[0])).toEqual(expect.arrayContaining(['alice', 'svc', 'root']));
    // Looked up by the shadow suite itself, through the merged passwd and shadow: the host's user and the base's.
    for (const [user, status] of [['alice', 'P'], ['svc', 'L']] as const) {
      const r = spawnSync('passwd', ['-R', root, '-S', user], { encoding: 'utf8' });
      expect(r.status, `passwd -S ${user}: ${r.stderr}`).toBe(0);
      expect(r.stdout.split(' ').slice(0, 2)).toEqual([user, status]);
    }
    expect(fs.readFileSync(path.join(root, 'etc/group'), 'utf8')).toMatch(/^users:x:100:alice$/m);
  });
});
