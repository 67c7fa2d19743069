// docs/operations.md "Rolling back", for real: slot A (v1) booted and changed through the mount, slot B
// (v2) booted and reconciled, state written under B, then A previewed and booted again. Every plan line
// the page prints (backup set names aside) must be in what `preview` prints, and the boot into A must
// bring back what B's reconcile dropped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/cli.js';
import { DOCS, read, section } from './markdown.js';
import { okAt, writeAll } from './scratch-root.js';

const CONF = '[Paths]\nConfig=/opt/app/etc/**\n';
const V1: Record<string, string> = { 'app/bin/tool': 'tool v1\n', 'app/etc/app.conf': 'port=80\n', 'app/etc/theme.conf': 'colour=blue\n', 'app/share/README': 'docs\n' };
const V2: Record<string, string> = { 'app/bin/tool': 'tool v2\n', 'app/etc/app.conf': 'port=80\nworkers=4\n', 'app/etc/theme.conf': 'colour=green\n', 'app/share/README': 'docs\n' };

let root: string;
let slotA: string;
let preview: string[];
let previewJson: { apiVersion: string; kind: string; restored: number; rollbackSet: string | null; actions: Array<{ kind: string; rule: number; path: string }> };
let setOfB: string;
const opt = () => path.join(root, 'opt');
const upper = () => path.join(root, 'var/lib/state-overlay/opt/upper');
const SHIPPED = 'usr/lib/state-overlay/opt.manifest';

const ok = (args: string[]): string => okAt(root, args);

/** Puts the image of a slot in place, as booting it does: its base and its shipped manifest. */
function boot(slot: string): void {
  for (const [rel, text] of Object.entries(V1)) fs.writeFileSync(path.join(opt(), rel), slot === slotA ? text : V2[rel]!);
  fs.copyFileSync(path.join(slot, SHIPPED), path.join(root, SHIPPED));
}

const setNames = (l: string) => l.replace(/\d{8}T\d{9}Z-[^\s)]+/g, 'SET');

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-docs-rollback-'));
  fs.mkdirSync(path.join(root, 'etc/state-overlay'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/state-overlay/opt.conf'), CONF);
  // The two slots' images, each with the manifest its build shipped.
  slotA = path.join(root, 'slot-a');
  const slotB = path.join(root, 'slot-b');
  for (const [slot, files] of [[slotA, V1], [slotB, V2]] as const) {
    writeAll(path.join(slot, 'opt'), files);
    const r = cli(['--root', slot, '-q', 'index', 'opt', '--ship']);
    expect(r.code, r.stderr).toBe(0);
  }
  writeAll(opt(), V1);
  fs.mkdirSync(path.dirname(path.join(root, SHIPPED)), { recursive: true });
  boot(slotA);
  ok(['run', 'opt']);
  fs.writeFileSync(path.join(opt(), 'app/bin/tool'), 'tool (local build)\n');
  fs.writeFileSync(path.join(opt(), 'app/etc/app.conf'), 'port=8080\n');
  fs.rmSync(path.join(opt(), 'app/etc/theme.conf'));
  ok(['unmount', 'opt']);
  boot(slotB);
  ok(['run', 'opt']);
  fs.mkdirSync(path.join(opt(), 'app/var'));
  fs.writeFileSync(path.join(opt(), 'app/var/cache.db'), 'written under B\n');
  // The slot as the page mounts it.
  preview = ok(['-v', 'preview', 'opt', '--image-root', slotA]).replaceAll(slotA, '/mnt/slot-a').split('\n').map(setNames);
  previewJson = JSON.parse(ok(['--json', 'preview', 'opt', '--image-root', slotA])) as typeof previewJson;
  setOfB = fs.readdirSync(path.join(root, 'var/lib/state-overlay/opt/backups'))[0]!;
  ok(['unmount', 'opt']);
});

afterAll(() => {
  cli(['--root', root, '-q', 'unmount', 'opt', '--lazy']);
  fs.rmSync(root, { recursive: true, force: true });
});

const example = section(read(path.join(DOCS, 'operations.md')), '## Rolling back')!.split('\n');
const printed = example.filter((l) => /^(rule |warning: |opt: )/.test(l)).map(setNames);

describe('docs/operations.md: rolling back', () => {
  it('prints rule 11 lines', () => expect(printed.filter((l) => l.startsWith('rule 11 ')).length).toBeGreaterThan(2));

  it.each(printed)('%s', (line) => {
    expect(preview).toContain(line);
  });

  it('preview --json shows the rollback steps and the set they come from', () => {
    expect(previewJson).toMatchObject({ apiVersion: 'state-overlay/v1', kind: 'PreviewReport', restored: 2, rollbackSet: setOfB });
    expect(previewJson.actions.filter((a) => a.rule === 11).map((a) => `${a.kind} ${a.path}`)).toEqual([
      'move-to-backups app/etc/app.conf.rpmnew',
      'restore-from-backups app/bin/tool',
      'restore-from-backups app/etc/theme.conf',
      'keep app/etc/app.conf',
    ]);
  });

  it('brings back, at the boot into A, what the boot into B dropped, and keeps what B wrote', () => {
    boot(slotA);
    ok(['run', 'opt']);
    try {
      expect(fs.readFileSync(path.join(opt(), 'app/bin/tool'), 'utf8')).toBe('tool (local build)\n');
      expect(fs.existsSync(path.join(opt(), 'app/etc/theme.conf'))).toBe(false);
      expect(fs.readFileSync(path.join(opt(), 'app/etc/app.conf'), 'utf8')).toBe('port=8080\n');
      expect(fs.existsSync(path.join(opt(), 'app/etc/app.conf.rpmnew'))).toBe(false);
      expect(fs.readFileSync(path.join(opt(), 'app/var/cache.db'), 'utf8')).toBe('written under B\n');
      expect(fs.lstatSync(path.join(upper(), 'app/etc/theme.conf')).isCharacterDevice()).toBe(true);
    } finally {
      ok(['unmount', 'opt']);
    }
  });
});
