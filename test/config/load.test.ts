import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFiles, loadConfig } from '../../src/config/load.js';

let root: string;
const write = (rel: string, text: string) => {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
};
const inst = { name: 'opt', mountpoint: '/opt' };

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-config-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('works with no file at all', () => {
    const c = loadConfig(root, inst);
    expect(c.sources).toEqual([]);
    expect(c.reconcile).toBe('changed');
  });

  it('takes the first NAME.conf of /etc, /run, /usr/lib, then drop-ins of all three by file name', () => {
    write('usr/lib/state-overlay/opt.conf', '[Overlay]\nReconcile=none\n');
    const etc = write('etc/state-overlay/opt.conf', '[Overlay]\nReconcile=all\n');
    const d1 = write('usr/lib/state-overlay/opt.conf.d/10-keep.conf', '[Paths]\nKeep=/opt/lib/**\n');
    write('usr/lib/state-overlay/opt.conf.d/20-mode.conf', '[Overlay]\nMode=persistent\n');
    const d2 = write('etc/state-overlay/opt.conf.d/20-mode.conf', '[Overlay]\nMode=ephemeral\n');
    const d3 = write('run/state-overlay/opt.conf.d/30-keep.conf', '[Paths]\nKeep=/opt/run/**\n');
    write('etc/state-overlay/opt.conf.d/README', 'not a drop-in');
    expect(configFiles(root, 'opt')).toEqual([etc, d1, d2, d3]);
    const c = loadConfig(root, inst);
    expect(c.reconcile).toBe('all');
    expect(c.mode).toBe('ephemeral');
    expect(c.paths.keep).toEqual(['/opt/lib/**', '/opt/run/**']);
    expect(c.sources).toEqual([etc, d1, d2, d3]);
  });

  it('names the drop-in file and line of a bad value', () => {
    const f = write('run/state-overlay/opt.conf.d/50-bad.conf', '[Overlay]\n\nReconcile=sometimes\n');
    expect(() => loadConfig(root, inst)).toThrow(`${f}:3: Reconcile=sometimes: expected changed, all or none`);
  });
});
