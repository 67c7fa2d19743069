import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { withSession } from '../../src/txn/session.js';
import { makeScratch, type Scratch } from '../mount/scratch.js';

let s: Scratch;
beforeEach(() => (s = makeScratch()));
afterEach(() => s.cleanup());

it('a base or state path it cannot inspect, other than absent, is an error naming it; nothing runs', async () => {
  s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/srv/base\n');
  const base = path.join(s.root, 'srv/base');
  fs.mkdirSync(path.dirname(base));
  fs.symlinkSync('base', base); // a loop: ELOOP, not ENOENT
  const ov = s.ctx().overlay('opt');
  let ran = 0;
  const session = () => withSession(ov, s.log, { offline: true }, async () => void ran++);
  await expect(session()).rejects.toMatchObject({ code: 'io', message: `cannot resolve base ${base}: ELOOP` });
  fs.rmSync(base);
  fs.mkdirSync(base);
  fs.mkdirSync(path.dirname(ov.layout.stateDir), { recursive: true });
  fs.writeFileSync(ov.layout.stateDir, ''); // the state dir a file: ENOTDIR below it
  await expect(session()).rejects.toMatchObject({ code: 'io', message: `lstat ${ov.layout.upper}: ENOTDIR` });
  expect(ran).toBe(0);
  fs.rmSync(ov.layout.stateDir);
  await session();
  expect(ran).toBe(1);
});
