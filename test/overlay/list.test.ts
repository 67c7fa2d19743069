import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { knownOverlays } from '../../src/overlay/list.js';
import { scratch } from '../tree/fixtures.js';

let root: string;
beforeEach(() => (root = scratch()));
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

it('a directory it cannot list, other than absent, is an error naming it', () => {
  expect(knownOverlays(root)).toEqual([]);
  const dir = path.join(root, 'etc/state-overlay');
  fs.mkdirSync(path.dirname(dir));
  fs.symlinkSync('state-overlay', dir); // a loop: ELOOP, not ENOENT
  expect(() => knownOverlays(root)).toThrow(`cannot list ${dir}: ELOOP`);
});
