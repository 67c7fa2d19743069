import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLog } from '../../src/log/logger.js';
import { treeGeneration } from '../../src/observe/generation.js';
import { manifestPath } from '../../src/manifest/store.js';
import { recordManifest } from '../../src/ops/record.js';
import { readState } from '../../src/state/state-file.js';
import { withSession } from '../../src/txn/session.js';
import { removeTree, scratch } from '../tree/fixtures.js';
import { scratchOverlay, writeTree } from './scratch.js';

describe('recordManifest', () => {
  let root: string;
  beforeEach(() => {
    root = scratch('so-record-');
  });
  afterEach(async () => {
    await removeTree(root);
  });

  it('records the manifest of the base it was asked for', async () => {
    const s = scratchOverlay(root);
    await writeTree(s.ov.base, { 'app/tool': 'v1\n' });
    const gen = { generation: treeGeneration(s.ov.base), source: 'tree' as const };
    const r = await withSession(s.ov, memoryLog(), {}, (session) => recordManifest(session, gen, { baseDir: s.ov.base }));
    expect(r).toMatchObject({ built: true, entries: 2 });
    expect(readState(s.ov.layout)).toMatchObject({ generation: gen.generation, manifest: path.basename(manifestPath(s.ov.layout, gen.generation)) });
  });

  it('records no manifest when the base changed after its generation was taken', async () => {
    const s = scratchOverlay(root);
    await writeTree(s.ov.base, { 'app/tool': 'v1\n' });
    const gen = { generation: treeGeneration(s.ov.base), source: 'tree' as const };
    fs.writeFileSync(path.join(s.ov.base, 'app/tool'), 'v2, a live change\n');
    const log = memoryLog();
    const r = await withSession(s.ov, log, {}, (session) => recordManifest(session, gen, { baseDir: s.ov.base }));
    expect(r.built).toBe(false);
    expect(fs.existsSync(manifestPath(s.ov.layout, gen.generation))).toBe(false);
    expect(readState(s.ov.layout)?.manifest ?? null).toBeNull();
    expect(log.events).toContainEqual({
      event: 'warning',
      message: `the base changed while its manifest was built: no manifest recorded for ${gen.generation}`,
      path: s.ov.base,
    });
  });
});
