import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { layoutFor } from '../../src/paths/layout.js';
import { writeFileAtomic } from '../../src/state/atomic.js';
import { ensureStateDir, ensureStateSubdir } from '../../src/state/state-dir.js';
import { emptyState, parseState, readState, writeState } from '../../src/state/state-file.js';
import { removeTree, scratch } from '../tree/fixtures.js';

let root: string;
beforeEach(() => {
  root = scratch('so-state-');
});
afterEach(async () => {
  await removeTree(root);
});

describe('state.json', () => {
  it('round-trips and is absent before the first write', () => {
    const layout = layoutFor(root, 'opt', '/opt');
    expect(readState(layout)).toBeNull();
    const s = { ...emptyState(), generation: 'tree:abc', manifest: 'tree:abc.manifest' };
    writeState(layout, s);
    expect(readState(layout)).toEqual(s);
    expect(fs.readdirSync(layout.stateDir)).toEqual(['state.json']);
    expect(fs.statSync(layout.stateFile).mode & 0o777).toBe(0o600);
  });

  const LAST = { at: '2026-01-01T00:00:00.000Z', from: null, to: 'g', mode: 'changed', actions: 2, dropped: 1, renamed: 0, sidecars: 1, merged: 0, attrs: 0, removedDirs: 0, restored: 1, kept: 1, conflicts: 0, backupSet: '20260101T000000000Z-g', ms: 12 };

  it('reads back the last reconcile field for field', () => {
    const layout = layoutFor(root, 'opt', '/opt');
    const s = { ...emptyState(), generation: 'g', lastReconcile: LAST as never };
    writeState(layout, s);
    expect(readState(layout)).toEqual(s);
  });

  it('reads a last reconcile recorded before rollbacks as having restored nothing', () => {
    const layout = layoutFor(root, 'opt', '/opt');
    const { restored: _, ...older } = LAST;
    writeState(layout, { ...emptyState(), generation: 'g', lastReconcile: older as never });
    expect(readState(layout)?.lastReconcile).toEqual({ ...LAST, restored: 0 });
  });

  it('reads a last reconcile recorded before three-way merges as having merged nothing', () => {
    const layout = layoutFor(root, 'opt', '/opt');
    const { merged: _, ...older } = { ...LAST, merged: 3 };
    writeState(layout, { ...emptyState(), generation: 'g', lastReconcile: older as never });
    expect(readState(layout)?.lastReconcile).toEqual({ ...LAST, merged: 0 });
  });

  const bad: Array<[string, string]> = [
    ['{', 'F: not JSON: '],
    ['[]', 'F: expected a JSON object'],
    ['{"schemaVersion":2}', 'F: schemaVersion 2: expected 1'],
    ['{"schemaVersion":1,"generation":3}', 'F: generation: expected a string or null'],
    ['{"schemaVersion":1,"generation":null,"manifest":"../x"}', 'F: manifest: expected a file name or null'],
    ['{"schemaVersion":1,"generation":null,"manifest":null,"lastReconcile":5}', 'F: lastReconcile: expected an object or null'],
    ['{"schemaVersion":1,"generation":null,"manifest":null}', 'F: lastReconcile: expected an object or null, got nothing'],
    [`{"schemaVersion":1,"generation":"g","manifest":null,"lastReconcile":${JSON.stringify({ ...LAST, dropped: -1 })}}`, 'F: lastReconcile.dropped: expected a whole number from 0 to'],
    [`{"schemaVersion":1,"generation":"g","manifest":null,"lastReconcile":${JSON.stringify({ ...LAST, mode: 'often' })}}`, 'F: lastReconcile.mode: expected one of changed, all or none, got "often"'],
    [`{"schemaVersion":1,"generation":"g","manifest":null,"lastReconcile":${JSON.stringify({ to: 'g' })}}`, 'F: lastReconcile.at: expected a string, got nothing'],
  ];
  for (const [text, msg] of bad) {
    it(`rejects ${text}`, () => {
      expect(() => parseState(text, 'F')).toThrow(msg);
    });
  }
});

describe('state directory', () => {
  it('is created 0700 with every parent, and a looser mode is tightened', () => {
    const layout = layoutFor(root, 'opt', '/opt');
    ensureStateDir(layout);
    expect(fs.statSync(layout.stateDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.dirname(layout.stateDir)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(root, 'var/lib')).mode & 0o777).toBe(0o755);
    fs.chmodSync(layout.stateDir, 0o755);
    ensureStateSubdir(layout, layout.backupsDir);
    expect(fs.statSync(layout.stateDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(layout.backupsDir).mode & 0o777).toBe(0o700);
  });

  it('refuses a symlink anywhere in the state path', () => {
    const layout = layoutFor(root, 'opt', '/opt');
    fs.mkdirSync(path.join(root, 'var/lib'), { recursive: true });
    fs.mkdirSync(path.join(root, 'elsewhere'));
    fs.symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'var/lib/state-overlay'));
    expect(() => ensureStateDir(layout)).toThrow(`${root}/var/lib/state-overlay is a symlink: refusing to keep overlay state through it`);
    expect(fs.readdirSync(path.join(root, 'elsewhere'))).toEqual([]);
  });

  it('refuses a state dir owned by someone else', () => {
    const layout = layoutFor(root, 'opt', '/opt');
    fs.mkdirSync(layout.stateDir, { recursive: true });
    fs.chownSync(layout.stateDir, 1234, 0);
    expect(() => ensureStateDir(layout)).toThrow(`${layout.stateDir} is owned by uid 1234, expected 0`);
  });

  it('refuses a file where a directory belongs', () => {
    const layout = layoutFor(root, 'opt', '/opt');
    fs.mkdirSync(path.join(root, 'var'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/lib'), '');
    expect(() => ensureStateDir(layout)).toThrow(`${root}/var/lib is not a directory`);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file behind', () => {
    const f = path.join(root, 'x.json');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, 'two');
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    expect(fs.readdirSync(root)).toEqual(['x.json']);
  });

  it('refuses to write through a symlinked temp name', () => {
    const f = path.join(root, 'x.json');
    const victim = path.join(root, 'victim');
    fs.writeFileSync(victim, 'keep');
    fs.symlinkSync(victim, path.join(root, `.x.json.tmp-${process.pid}`));
    expect(() => writeFileAtomic(f, 'data')).toThrow(`write ${f}: ELOOP`);
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep');
  });

  it('removes the temp file a killed writer left (its pid is gone), not one a live writer holds', async () => {
    const f = path.join(root, 'x.json');
    const dead = spawn(process.execPath, ['-e', '0']);
    const pid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid!)));
    fs.writeFileSync(path.join(root, `.x.json.tmp-${pid}`), 'half a journal');
    fs.writeFileSync(path.join(root, `.x.json.tmp-${process.ppid}`), 'being written');
    fs.writeFileSync(path.join(root, `.y.json.tmp-${pid}`), 'another file: its own writer cleans it');
    writeFileAtomic(f, 'data');
    expect(fs.readdirSync(root).sort()).toEqual([`.x.json.tmp-${process.ppid}`, `.y.json.tmp-${pid}`, 'x.json']);
  });
});
