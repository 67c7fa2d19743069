// docs/decision-table.md's three-way merge example, for real: image v1 with its configuration, the host's edits
// through the mount, image v2, then the dry run must print the page's lines and the reconcile leave the page's files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/cli.js';
import { DOCS, read, section } from './markdown.js';
import { okAt, writeAll } from './scratch-root.js';

const text = section(read(path.join(DOCS, 'decision-table.md')), '## Three-way merges')!;
/** The page's fenced blocks in order: the configuration, v1's three files, the plan, the two merged files. */
const blocks = [...text.matchAll(/^```(?:ini)?\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const [conf, appV1, limitsV1, passwdV1, planBlock, appMerged, passwdMerged] = blocks;

let root: string;
let plan: string[];
const ok = (args: string[]) => okAt(root, args);
const etc = (name: string) => path.join(root, 'opt/app/etc', name);
const edit = (name: string, from: string, to: string) => fs.writeFileSync(etc(name), fs.readFileSync(etc(name), 'utf8').replace(from, to));

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-docs-merge-'));
  writeAll(path.join(root, 'opt/app/etc'), { 'app.conf': appV1!, 'limits.conf': limitsV1!, passwd: passwdV1! });
  writeAll(path.join(root, 'etc/state-overlay'), { 'opt.conf': conf! });
  ok(['run', 'opt']);
  // The host's edits, through the mount, as the page says.
  edit('app.conf', 'port=80\n', 'port=8080\n');
  edit('limits.conf', 'max_open=1024', 'max_open=4096');
  fs.appendFileSync(etc('passwd'), 'alice:x:1000:1000::/home/alice:/bin/sh\n');
  ok(['unmount', 'opt']);
  // Image v2.
  edit('app.conf', 'log=info', 'log=warn');
  edit('limits.conf', 'max_open=1024', 'max_open=65536');
  fs.appendFileSync(etc('passwd'), 'metrics:x:101:101::/:/usr/sbin/nologin\n');
  plan = ok(['reconcile', 'opt', '--dry-run']).split('\n');
  ok(['reconcile', 'opt']);
});

afterAll(() => {
  cli(['--root', root, '-q', 'unmount', 'opt', '--lazy']);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('docs/decision-table.md three-way merges', () => {
  it('has its seven blocks', () => expect(blocks).toHaveLength(7));

  it.each(planBlock!.trim().split('\n'))('%s', (line) => {
    expect(plan).toContain(line);
  });

  it('leaves the merged files the page shows, and the conflicting one with its sidecar', () => {
    const upper = path.join(root, 'var/lib/state-overlay/opt/upper/app/etc');
    expect(fs.readFileSync(path.join(upper, 'app.conf'), 'utf8')).toBe(appMerged);
    expect(fs.readFileSync(path.join(upper, 'passwd'), 'utf8')).toBe(passwdMerged);
    expect(fs.readFileSync(path.join(upper, 'limits.conf.rpmnew'), 'utf8')).toBe(limitsV1!.replace('max_open=1024', 'max_open=65536'));
  });
});

describe('docs/configuration.md: the same user id on both sides', () => {
  const example = section(read(path.join(DOCS, 'configuration.md')), '#### Example: the same user id on both sides')!;
  const [exConf, diffBlock, exPlan] = [...example.matchAll(/^```(?:ini)?\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  let exRoot: string;
  const at = (args: string[]) => okAt(exRoot, args);
  const file = () => path.join(exRoot, 'opt/app/etc/passwd');
  const ROOT_USER = 'root:x:0:0:root:/root:/bin/sh\n';

  beforeAll(() => {
    exRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'so-docs-passwd-'));
    writeAll(exRoot, { 'opt/app/etc/passwd': ROOT_USER, 'etc/state-overlay/opt.conf': exConf! });
    at(['run', 'opt']);
    fs.appendFileSync(file(), 'alice:x:1000:1000::/home/alice:/bin/sh\n');
    at(['unmount', 'opt']);
  });
  afterAll(() => {
    cli(['--root', exRoot, '-q', 'unmount', 'opt', '--lazy']);
    fs.rmSync(exRoot, { recursive: true, force: true });
  });

  it('prints the diff line and the plan the page shows', () => {
    fs.writeFileSync(file(), `${ROOT_USER}bob:x:1000:1000::/home/bob:/bin/sh\n`);
    expect(at(['diff', 'opt']).split('\n')).toContain(diffBlock!.trim());
    const printed = at(['reconcile', 'opt', '--dry-run']).split('\n');
    for (const l of exPlan!.trim().split('\n')) expect(printed).toContain(l);
  });

  it('with id 1001 for bob, merges root, bob and alice, and writes no .rpmnew', () => {
    fs.writeFileSync(file(), `${ROOT_USER}bob:x:1001:1001::/home/bob:/bin/sh\n`);
    at(['reconcile', 'opt']);
    const upper = path.join(exRoot, 'var/lib/state-overlay/opt/upper/app/etc');
    expect(fs.readFileSync(path.join(upper, 'passwd'), 'utf8')).toBe(`${ROOT_USER}bob:x:1001:1001::/home/bob:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n`);
    expect(fs.existsSync(path.join(upper, 'passwd.rpmnew'))).toBe(false);
  });
});
