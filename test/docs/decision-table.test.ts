// docs/decision-table.md's worked examples, for real: image v1 mounted with an overlay, the admin's
// changes made through the mount, image v2 written to the base, then every plan line the page prints
// must be in what `reconcile --dry-run` prints.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/cli.js';
import { DOCS, read, section } from './markdown.js';

const CONF = '[Paths]\nConfig=/opt/*/etc/**\nConfigReplace=/opt/app/etc/policy.conf\n';

const V1: Record<string, string> = {
  'app/bin/tool': 'tool v1\n',
  'app/lib/libfoo.so': 'libfoo v1\n',
  'app/share/README': 'docs v1\n',
  'app/etc/app.conf': 'port=80\n',
  'app/etc/policy.conf': 'policy=strict\n',
  'app/etc/theme.conf': 'colour=blue\n',
};
const V2: Record<string, string> = {
  'app/bin/tool': 'tool v2\n',
  'app/etc/app.conf': 'port=80\nworkers=4\n',
  'app/etc/policy.conf': 'policy=strict\naudit=on\n',
  'app/etc/theme.conf': 'colour=green\n',
};

let root: string;
let opt: string;
let plan: string[];

function writeAll(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

function ok(args: string[]): string {
  const r = cli(['--root', root, '-q', ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-docs-table-'));
  opt = path.join(root, 'opt');
  writeAll(opt, V1);
  fs.mkdirSync(path.join(root, 'etc/state-overlay'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/state-overlay/opt.conf'), CONF);
  ok(['run', 'opt']);
  // The admin's changes, through the mounted overlay.
  const t = new Date('2030-01-01T00:00:00Z');
  fs.utimesSync(path.join(opt, 'app/lib/libfoo.so'), t, t);
  fs.writeFileSync(path.join(opt, 'app/share/README'), 'docs v1 + local notes\n');
  fs.writeFileSync(path.join(opt, 'app/bin/tool'), 'tool (local build)\n');
  fs.writeFileSync(path.join(opt, 'app/etc/app.conf'), 'port=8080\n');
  fs.writeFileSync(path.join(opt, 'app/etc/policy.conf'), 'policy=relaxed\n');
  fs.rmSync(path.join(opt, 'app/etc/theme.conf'));
  ok(['unmount', 'opt']);
  // Image v2 arrives: the base (the mountpoint's own directory) changes while nothing is mounted.
  writeAll(opt, V2);
  plan = ok(['reconcile', 'opt', '--dry-run']).split('\n');
});

afterAll(() => {
  cli(['--root', root, '-q', 'unmount', 'opt', '--lazy']);
  fs.rmSync(root, { recursive: true, force: true });
});

const examples = section(read(path.join(DOCS, 'decision-table.md')), '## Worked examples')!
  .split('\n')
  .filter((l) => l.startsWith('rule '));

describe('docs/decision-table.md worked examples', () => {
  it('prints plan lines for rows 1, 2, 3, 4 and 8', () => {
    expect(new Set(examples.map((l) => l.slice(0, 8)))).toEqual(new Set(['rule  1 ', 'rule  2 ', 'rule  3 ', 'rule  4 ', 'rule  8 ']));
  });

  it.each(examples)('%s', (line) => {
    expect(plan).toContain(line);
  });

  it('was a dry run: the upper still holds the changes and no sidecar was written', () => {
    const upper = path.join(root, 'var/lib/state-overlay/opt/upper');
    expect(fs.readFileSync(path.join(upper, 'app/bin/tool'), 'utf8')).toBe('tool (local build)\n');
    expect(fs.existsSync(path.join(upper, 'app/etc/app.conf.rpmnew'))).toBe(false);
    expect(fs.readFileSync(path.join(opt, 'app/bin/tool'), 'utf8')).toBe('tool v2\n');
  });
});
