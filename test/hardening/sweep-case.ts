// The tree of the fault-injection sweep: one base change that makes a reconcile take every kind of action
// (drops of each entry kind, whiteouts, an opaque dir, a subtree the base turned into a file with every
// attribute, .rpmnew and .rpmsave sidecars, a three-way merge, a directory's mode, a directory left empty,
// declared state).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { run } from '../../src/exec.js';
import { readState, writeState } from '../../src/state/state-file.js';
import { scratchOverlay, writeTree } from '../ops/scratch.js';
import { buildCliCase, tree, type CaseSpec } from './cases.js';
import { cli, mountTmpfs, removeScratch, scratchDir } from './harness.js';
import { attributeRich } from './xfs-cases.js';

export const SWEEP_CONF = '[Paths]\nConfig=/opt/etc/**\nConfigReplace=/opt/etc/replace/**\nKeep=/opt/keep/**\nMerge=/opt/merge/*:text\n';

export const SWEEP_CASE: CaseSpec = {
  name: 'every action kind',
  // The merge driver of SWEEP_CONF, for the pristine copies the template's recorded manifest keeps.
  config: { paths: { merge: [{ glob: '/opt/merge/*', driver: 'text' }] } },
  v1: tree({
    'bin/same': 'same v1\n',
    'bin/edited': 'edited v1\n',
    'bin/kept': 'kept v1\n',
    'bin/link': 'link v1\n',
    'bin/wh': 'wh v1\n',
    'bin/whx': 'whx v1\n',
    'etc/app.conf': 'app v1\n',
    'etc/replace/r.conf': 'r v1\n',
    'etc/deleted.conf': 'deleted v1\n',
    'opq/x': 'x v1\n',
    'turned/a': 'a v1\n',
    'gone/x': 'gone v1\n',
    'moded/f': 'moded v1\n',
    'keep/k': 'k v1\n',
    'share/s1': 's1\n',
    'share/s2': 's2\n',
    'merge/m': 'a\nb\nc\n',
  }),
  upper: async (u) => {
    await writeTree(u, {
      'bin/same': 'same v1\n',
      'bin/edited': { file: 'edited by the host\n', mode: 0o640, uid: 12, gid: 34 },
      'bin/kept': 'kept, edited by the host\n',
      'bin/link': { link: '/etc/passwd' },
      'bin/wh': { whiteout: 'chardev' },
      'bin/whx': { whiteout: 'xattr' },
      'etc/app.conf': 'app edited\n',
      'etc/replace/r.conf': 'r edited\n',
      'etc/deleted.conf': { whiteout: 'chardev' },
      opq: { dir: true, opaque: true },
      'opq/mine': 'mine\n',
      'opq/sub/deeper': 'deeper\n',
      'gone/x': 'gone v1\n',
      moded: { dir: true, mode: 0o755 },
      'moded/mine': 'state in a dir whose mode the base changes\n',
      'keep/k': 'k, declared state\n',
      'data/db': { file: 'state\n', mode: 0o600, uid: 7, gid: 8 },
      'data/fifo': { fifo: true },
      'merge/m': { file: 'A, the host\'s\nb\nc\n', mode: 0o640, uid: 5, gid: 6 },
    });
    fs.linkSync(path.join(u, 'data/db'), path.join(u, 'data/db-link'));
    await attributeRich(u);
    // A sparse file of a few blocks: every snapshot hashes it.
    const sparse = path.join(u, 'turned/sparse');
    const { atime, mtime } = fs.statSync(sparse);
    fs.truncateSync(sparse, 0);
    fs.truncateSync(sparse, 1 << 20);
    fs.utimesSync(sparse, atime, mtime);
    fs.utimesSync(path.join(u, 'turned'), 1_000_000_002, 1_200_000_000.25);
  },
  v2: async (b) => {
    await tree({
      'bin/edited': 'edited v2\n',
      'bin/link': 'link v2\n',
      'bin/wh': 'wh v2\n',
      'bin/whx': 'whx v2\n',
      'etc/app.conf': 'app v2\n',
      'etc/replace/r.conf': 'r v2\n',
      'etc/deleted.conf': 'deleted v2\n',
      'opq/x': 'x v2\n',
      'keep/k': 'k v2\n',
      'merge/m': 'a\nb\nC, the base\'s\n',
    })(b);
    fs.rmSync(path.join(b, 'turned'), { recursive: true });
    fs.writeFileSync(path.join(b, 'turned'), 'now a file\n');
    fs.rmSync(path.join(b, 'gone'), { recursive: true });
    fs.chmodSync(path.join(b, 'moded'), 0o750);
  },
};

/**
 * The sweep case built once per test file as a template on a tmpfs of its own (made before the file's
 * tests, removed after): copy() gives a fresh root of it, original() the snapshot of its upper.
 */
export function sweepTemplate(prefix: string): { copy(): Promise<string>; original(): Map<string, string> } {
  let top = '';
  let template = '';
  let original = new Map<string, string>();
  let copies = 0;
  beforeAll(async () => {
    top = scratchDir(prefix);
    await mountTmpfs(top, 'mode=0755,size=256m');
    template = path.join(top, 'template');
    fs.mkdirSync(template);
    original = (await buildCliCase(template, SWEEP_CASE, SWEEP_CONF)).original;
  });
  afterAll(async () => {
    await removeScratch(top);
  });
  return {
    async copy() {
      const root = path.join(top, `r${++copies}`);
      fs.mkdirSync(root);
      await run('cp', ['-a', '--', `${template}/.`, root]);
      return root;
    },
    original: () => original,
  };
}

/**
 * Turns a copy of the sweep case's template into a host about to roll back: reconciled to v2 (generation
 * command:gen2), state written under v2, then base v1 back (generation command:gen1, the one reconciled
 * away from): its next reconcile is a rollback (rule 11).
 */
export async function rollbackCase(root: string): Promise<void> {
  const { layout, base } = scratchOverlay(root).ov;
  writeState(layout, { ...readState(layout)!, generation: 'command:gen1' });
  const generation = (g: string) => fs.writeFileSync(path.join(root, 'etc/state-overlay/opt.conf'), `[Overlay]\nGeneration=command:/bin/echo ${g}\n${SWEEP_CONF}`);
  generation('gen2');
  const r = await cli(root, ['reconcile', 'opt']);
  expect(r.exitCode, r.stderr).toBe(0);
  await writeTree(layout.upper, { 'data/under-v2': 'state written under v2\n' });
  fs.rmSync(base, { recursive: true });
  fs.mkdirSync(base);
  await SWEEP_CASE.v1(base);
  generation('gen1');
}
