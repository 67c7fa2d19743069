import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDpkgConffiles, parseConffiles } from '../../src/observe/conffiles.js';
import { pathClassifier } from '../../src/plan/classes.js';
import { defaultConfig } from '../../src/config/schema.js';
import { rel } from '../model/rel.js';

const tmp: string[] = [];
afterEach(() => {
  for (const d of tmp.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('ConfigFrom=dpkg', () => {
  it('parses conffiles lines, skipping obsolete and remove-on-upgrade entries', () => {
    const text = Buffer.concat([
      Buffer.from('/opt/app/etc/app.conf\n/opt/app/etc/old.conf obsolete\n/opt/app/etc/gone.conf remove-on-upgrade\n\nnot-a-path\n'),
      Buffer.from([0x2f, 0x6f, 0x70, 0x74, 0x2f, 0xff, 0x0a]),
    ]);
    expect(parseConffiles(text)).toEqual(['/opt/app/etc/app.conf', '/opt/\xff']);
  });

  it('loads every package conffiles list from the image root and classifies them as config', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-conffiles-'));
    tmp.push(root);
    const info = path.join(root, 'var/lib/dpkg/info');
    fs.mkdirSync(info, { recursive: true });
    fs.writeFileSync(path.join(info, 'app.conffiles'), '/opt/app/etc/app.conf\n');
    fs.writeFileSync(path.join(info, 'app.list'), '/opt/app/etc/other.conf\n');
    fs.writeFileSync(path.join(info, 'tool.conffiles'), '/opt/tool/tool.ini\n/etc/tool.conf\n');
    const set = loadDpkgConffiles(root);
    expect([...set].sort()).toEqual(['/etc/tool.conf', '/opt/app/etc/app.conf', '/opt/tool/tool.ini']);
    const paths = { ...defaultConfig('opt', '/opt').paths, configFrom: 'dpkg' as const };
    const classify = pathClassifier('/opt', paths, set);
    expect(classify(rel('app/etc/app.conf'))).toEqual({ cls: 'config', policy: 'noreplace' });
    expect(classify(rel('tool/tool.ini'))).toEqual({ cls: 'config', policy: 'noreplace' });
    expect(classify(rel('app/etc/other.conf')).cls).toBe('default');
  });

  it('an image without a dpkg database has no conffiles', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-conffiles-'));
    tmp.push(root);
    expect(loadDpkgConffiles(root).size).toBe(0);
  });
});
