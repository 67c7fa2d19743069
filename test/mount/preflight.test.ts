import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { errorChain } from '../../src/errors.js';
import { checkOverlaySupport } from '../../src/mount/preflight.js';
import { scratch } from '../tree/fixtures.js';

let dir: string;
beforeEach(() => (dir = scratch()));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('keeps why modprobe did not help as the cause of the unsupported error', async () => {
  const filesystems = path.join(dir, 'filesystems');
  fs.writeFileSync(filesystems, 'nodev\ttmpfs\n\text4\n');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const path0 = process.env.PATH;
  const check = async () => {
    const err = await checkOverlaySupport(filesystems).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unsupported', path: filesystems });
    return errorChain(err).slice(1);
  };
  try {
    process.env.PATH = bin; // no modprobe
    expect(await check()).toEqual(['modprobe -q overlay: spawn modprobe ENOENT']);
    fs.writeFileSync(path.join(bin, 'modprobe'), '#!/bin/sh\necho "modprobe: FATAL: Module overlay not found" >&2\nexit 1\n', { mode: 0o755 });
    expect(await check()).toEqual(['modprobe -q overlay: exit status 1: modprobe: FATAL: Module overlay not found']);
  } finally {
    process.env.PATH = path0;
  }
});
