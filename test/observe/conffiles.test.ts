import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDpkgClasses, parseConffiles, parseStatusObsolete } from '../../src/observe/conffiles.js';
import { readPackageDbs } from '../../src/observe/package-db.js';
import { parseRpmFiles } from '../../src/observe/rpmdb.js';

const tmp: string[] = [];
afterEach(() => {
  for (const d of tmp.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const scratchRoot = () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-conffiles-'));
  tmp.push(root);
  return root;
};

describe('the dpkg database', () => {
  it('parses conffiles lines, marking obsolete entries and skipping remove-on-upgrade ones', () => {
    const text = Buffer.concat([
      Buffer.from('/opt/app/etc/app.conf\n/opt/app/etc/old.conf obsolete\n/opt/app/etc/gone.conf remove-on-upgrade\n\nnot-a-path\n'),
      Buffer.from([0x2f, 0x6f, 0x70, 0x74, 0x2f, 0xff, 0x0a]),
    ]);
    expect(parseConffiles(text)).toEqual([
      { path: '/opt/app/etc/app.conf', obsolete: false },
      { path: '/opt/app/etc/old.conf', obsolete: true },
      { path: '/opt/\xff', obsolete: false },
    ]);
  });

  it('reads the obsolete conffiles of the status file, by package', () => {
    const status = 'Package: app\nStatus: install ok installed\nConffiles:\n /opt/app/etc/a.conf 0123 \n /opt/app/etc/old.conf 4567 obsolete\nDescription: x\n\nPackage: other\nConffiles:\n /etc/o 89ab obsolete\n';
    expect(parseStatusObsolete(Buffer.from(status))).toEqual([{ pkg: 'app', path: '/opt/app/etc/old.conf' }, { pkg: 'other', path: '/etc/o' }]);
  });

  it('loads every package conffiles list from the image root, as classes relative to the mountpoint', async () => {
    const root = scratchRoot();
    const info = path.join(root, 'var/lib/dpkg/info');
    fs.mkdirSync(info, { recursive: true });
    fs.writeFileSync(path.join(info, 'app:amd64.conffiles'), '/opt/app/etc/app.conf\n');
    fs.writeFileSync(path.join(info, 'app.list'), '/opt/app/etc/other.conf\n');
    fs.writeFileSync(path.join(info, 'tool.conffiles'), '/opt/tool/tool.ini\n/etc/tool.conf\n');
    fs.writeFileSync(path.join(root, 'var/lib/dpkg/status'), 'Package: app\nConffiles:\n /opt/app/etc/dropped.conf 0123 obsolete\n');
    expect([...loadDpkgClasses(root).keys()].sort()).toEqual(['/etc/tool.conf', '/opt/app/etc/app.conf', '/opt/app/etc/dropped.conf', '/opt/tool/tool.ini']);
    const c = await readPackageDbs(root, '/opt', 'auto');
    expect(c.dbs).toEqual(['dpkg']);
    expect(Object.fromEntries([...c.byPath].map(([p, k]) => [p, `${k.pkg}${k.obsolete ? ' obsolete' : ''}`]))).toEqual({
      'app/etc/app.conf': 'app',
      'app/etc/dropped.conf': 'app obsolete',
      'tool/tool.ini': 'tool',
    });
  });

  it('an image without a database has no classes; ConfigFrom=none reads nothing', async () => {
    const root = scratchRoot();
    expect(loadDpkgClasses(root).size).toBe(0);
    expect(await readPackageDbs(root, '/opt', 'auto')).toEqual({ dbs: [], byPath: new Map() });
    expect((await readPackageDbs(root, '/opt', 'none')).dbs).toBeNull();
  });
});

describe('the rpm database', () => {
  it('parses rpm -qa file flags: config, noreplace, missingok, ghost; unflagged files are left out', () => {
    const out = 'cn\tapp\t/opt/app/etc/a.conf\nc\tapp\t/opt/app/etc/b.conf\ncm\tapp\t/opt/app/etc/c.conf\ng\tapp\t/opt/app/run.pid\n\tapp\t/opt/app/bin/tool\nd\tapp\t/opt/app/README\n';
    expect(parseRpmFiles(out).map(([p, c]) => `${p} ${c.config ? 'c' : ''}${c.noreplace ? 'n' : ''}${c.missingok ? 'm' : ''}${c.ghost ? 'g' : ''}`)).toEqual([
      '/opt/app/etc/a.conf cn', '/opt/app/etc/b.conf c', '/opt/app/etc/c.conf cm', '/opt/app/run.pid g',
    ]);
  });
});
