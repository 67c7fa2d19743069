// docs/decision-table.md's worked examples (rows 1 to 10), for real: image v1 mounted with an overlay, the admin's
// changes made through the mount, image v2 written to the base, then every plan line the page prints
// must be in what `reconcile --dry-run` prints.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/cli.js';
import type { BaseChange } from '../../src/plan/change.js';
import { disagreements, type Decided } from '../plan/verdict.js';
import { DOCS, read, section } from './markdown.js';
import { okAt, writeAll } from './scratch-root.js';

const CONF = '[Paths]\nConfig=/opt/*/etc/**\nConfigReplace=/opt/app/etc/policy.conf\nConfigReplace=/opt/app/etc/site.conf\n';

const V1: Record<string, string> = {
  'app/bin/tool': 'tool v1\n',
  'app/lib/libfoo.so': 'libfoo v1\n',
  'app/share/README': 'docs v1\n',
  'app/etc/app.conf': 'port=80\n',
  'app/etc/policy.conf': 'policy=strict\n',
  'app/etc/theme.conf': 'colour=blue\n',
  'app/lib/old.so': 'old v1\n',
  'app/share/icons/app.png': 'icon v1\n',
  'app/conf.d/a.conf': 'a=1\n',
  'app/data/seed.db': 'seed v1\n',
};
const V2: Record<string, string> = {
  'app/bin/tool': 'tool v2\n',
  'app/etc/app.conf': 'port=80\nworkers=4\n',
  'app/etc/policy.conf': 'policy=strict\naudit=on\n',
  'app/etc/theme.conf': 'colour=green\n',
  'app/share/icons/app.png': 'icon v2\n',
  'app/plugins/extra.so': 'extra from the vendor\n',
  'app/etc/site.conf': 'site from the vendor\n',
};

/** The worked examples' scratch root: image v1 run, the admin's changes through the mount, image v2 in place. */
function workedRoot(conf: string): { root: string; opt: string; plan: string[] } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-docs-table-'));
  const ok = (args: string[]): string => okAt(root, args);
  const opt = path.join(root, 'opt');
  writeAll(opt, V1);
  fs.mkdirSync(path.join(root, 'etc/state-overlay'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/state-overlay/opt.conf'), conf);
  ok(['run', 'opt']);
  // The admin's changes, through the mounted overlay.
  const t = new Date('2030-01-01T00:00:00Z');
  fs.utimesSync(path.join(opt, 'app/lib/libfoo.so'), t, t);
  fs.writeFileSync(path.join(opt, 'app/share/README'), 'docs v1 + local notes\n');
  fs.writeFileSync(path.join(opt, 'app/bin/tool'), 'tool (local build)\n');
  fs.writeFileSync(path.join(opt, 'app/etc/app.conf'), 'port=8080\n');
  fs.writeFileSync(path.join(opt, 'app/etc/policy.conf'), 'policy=relaxed\n');
  fs.rmSync(path.join(opt, 'app/etc/theme.conf'));
  fs.writeFileSync(path.join(opt, 'app/lib/old.so'), 'old, patched\n');
  fs.mkdirSync(path.join(opt, 'app/plugins'));
  fs.writeFileSync(path.join(opt, 'app/plugins/extra.so'), 'extra built here\n');
  fs.writeFileSync(path.join(opt, 'app/etc/site.conf'), 'site written here\n');
  fs.rmSync(path.join(opt, 'app/share/icons'), { recursive: true });
  fs.mkdirSync(path.join(opt, 'app/share/icons'));
  fs.writeFileSync(path.join(opt, 'app/conf.d/a.conf'), 'a=2\n');
  // An opaque dir whose base directory only changes its mode in v2: rule 7 keeps it, and diff must agree.
  fs.rmSync(path.join(opt, 'app/data'), { recursive: true });
  fs.mkdirSync(path.join(opt, 'app/data'));
  fs.writeFileSync(path.join(opt, 'app/data/local.db'), 'local\n');
  ok(['unmount', 'opt']);
  // Image v2 arrives: the base (the mountpoint's own directory) changes while nothing is mounted.
  writeAll(opt, V2);
  fs.rmSync(path.join(opt, 'app/lib/old.so'));
  fs.rmSync(path.join(opt, 'app/conf.d'), { recursive: true });
  fs.symlinkSync('etc', path.join(opt, 'app/conf.d'));
  fs.chmodSync(path.join(opt, 'app/data'), 0o700);
  return { root, opt, plan: ok(['-v', 'reconcile', 'opt', '--dry-run']).split('\n') };
}

function removeRoot(root: string): void {
  cli(['--root', root, '-q', 'unmount', 'opt', '--lazy']);
  fs.rmSync(root, { recursive: true, force: true });
}

let root: string;
let opt: string;
let plan: string[];
const ok = (args: string[]): string => okAt(root, args);
beforeAll(() => void ({ root, opt, plan } = workedRoot(CONF)));
afterAll(() => removeRoot(root));

const printed = (l: string) => l.startsWith('rule ') || l.startsWith('warning: ');
const worked = section(read(path.join(DOCS, 'decision-table.md')), '## Worked examples')!.split('\n');
const row10At = worked.findIndex((l) => l.startsWith('**Row 10.**'));
const examples = worked.slice(0, row10At).filter(printed);
const row10 = worked.slice(row10At).filter(printed);

describe('docs/decision-table.md worked examples', () => {
  it('prints plan lines for rows 1 to 9', () => {
    const rules = new Set(examples.filter((l) => l.startsWith('rule ')).map((l) => l.slice(0, 8)));
    expect(rules).toEqual(new Set(['rule  1 ', 'rule  2 ', 'rule  3 ', 'rule  4 ', 'rule  5 ', 'rule  6 ', 'rule  7 ', 'rule  8 ', 'rule  9 ']));
  });

  it.each(examples)('%s', (line) => {
    expect(plan).toContain(line);
  });

  it('diff says of the base under each entry what the dry run decides (one predicate of "changed")', () => {
    const diff = JSON.parse(ok(['--json', 'diff', 'opt'])) as { entries: { path: string; kind: string; base?: BaseChange }[] };
    const dry = JSON.parse(ok(['--json', 'reconcile', 'opt', '--dry-run'])) as { actions: (Decided & { path: string })[] };
    const verdicts = new Map(diff.entries.flatMap((e) => (e.base === undefined || e.kind === 'state' ? [] : [[e.path, { kind: e.kind, base: e.base }] as const])));
    expect(verdicts.get('app/data')).toEqual({ kind: 'opaque-dir', base: 'unchanged' });
    expect(verdicts.size).toBeGreaterThan(8);
    expect(disagreements(verdicts, dry.actions)).toEqual([]);
  });

  it('was a dry run: the upper still holds the changes and no sidecar was written', () => {
    const upper = path.join(root, 'var/lib/state-overlay/opt/upper');
    expect(fs.readFileSync(path.join(upper, 'app/bin/tool'), 'utf8')).toBe('tool (local build)\n');
    expect(fs.existsSync(path.join(upper, 'app/etc/app.conf.rpmnew'))).toBe(false);
    expect(fs.readFileSync(path.join(opt, 'app/bin/tool'), 'utf8')).toBe('tool v2\n');
  });
});

describe('the same trees with ConfigMerge=three-way', () => {
  let merged: { root: string; plan: string[] };
  beforeAll(() => void (merged = workedRoot(`${CONF}ConfigMerge=three-way\n`)));
  afterAll(() => removeRoot(merged.root));

  it.each(examples)('%s', (line) => {
    expect(merged.plan).toContain(line);
  });

  it('merges nothing there: both edited config files and the one both sides added conflict, and the warnings say where', () => {
    expect(merged.plan.filter((l) => /^rule +\d+ +merge /.test(l))).toEqual([]);
    const notMerged = merged.plan.filter((l) => l.includes('not merged'));
    expect(notMerged).toEqual([
      expect.stringMatching(/^warning: rule 3: \/opt\/app\/etc\/app\.conf: not merged \(text\): both changed line 1 of the old base/),
      expect.stringMatching(/^warning: rule 3: \/opt\/app\/etc\/policy\.conf: not merged \(text\): both changed line 1 of the old base/),
      // Rule 6: the old base had no such file, so both sides added their own first line.
      expect.stringMatching(/^warning: rule 6: \/opt\/app\/etc\/site\.conf: not merged \(text\): both changed before line 1 of the old base/),
    ]);
  });
});

describe('docs/decision-table.md row 10: an upper adopted without a record of its base', () => {
  let root10: string;
  let plan10: string[];

  beforeAll(() => {
    root10 = fs.mkdtempSync(path.join(os.tmpdir(), 'so-docs-row10-'));
    const o = path.join(root10, 'opt');
    writeAll(o, V1);
    fs.mkdirSync(path.join(root10, 'etc/state-overlay'), { recursive: true });
    fs.writeFileSync(path.join(root10, 'etc/state-overlay/opt.conf'), CONF);
    const run = (args: string[]) => okAt(root10, args);
    run(['run', 'opt']);
    fs.writeFileSync(path.join(o, 'app/bin/tool'), 'tool (local build)\n');
    fs.writeFileSync(path.join(o, 'app/etc/app.conf'), 'port=8080\n');
    run(['unmount', 'opt']);
    // What an adopted upper looks like: no state.json, no manifest of the base it was made against.
    fs.rmSync(path.join(root10, 'var/lib/state-overlay/opt/state.json'));
    fs.rmSync(path.join(root10, 'var/lib/state-overlay/opt/manifests'), { recursive: true });
    plan10 = run(['-v', 'reconcile', 'opt', '--dry-run']).split('\n');
  });

  afterAll(() => {
    cli(['--root', root10, '-q', 'unmount', 'opt', '--lazy']);
    fs.rmSync(root10, { recursive: true, force: true });
  });

  it('prints rule 10 lines', () => expect(row10.length).toBeGreaterThan(0));

  it.each(row10)('%s', (line) => {
    expect(plan10).toContain(line);
  });
});
