import fs from 'node:fs';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { devName, fileId } from '../../src/mount/identity.js';
import { findDeviceHolders, findHolders } from '../../src/mount/holders.js';
import { failOn } from '../inject.js';
import { scratch } from '../tree/fixtures.js';
import { spawnHolder, stopChild } from './scratch.js';

let dir: string;
beforeEach(() => (dir = scratch()));
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('lists a process it cannot read, other than gone, with what could not be read', async () => {
  const child = await spawnHolder(dir);
  try {
    const pid = child.pid!;
    expect(findHolders([dir])).toEqual([{ pid, command: 'sleep 600', how: ['cwd'] }]);
    const eio = failOn('readlinkSync', `/proc/${pid}/cwd`, 'EIO');
    expect(findHolders([dir])).toEqual([{ pid, command: 'sleep 600', how: ['cwd unreadable (EIO)'] }]);
    eio.mockRestore();
    for (const code of ['ENOENT', 'ENAMETOOLONG']) {
      const spy = failOn('readlinkSync', `/proc/${pid}/cwd`, code); // exited meanwhile; too deep to name
      expect(findHolders([dir])).toEqual([]);
      spy.mockRestore();
    }
  } finally {
    await stopChild(child);
  }
});

it('finds holders by the device of what they hold; a namespace it cannot read is said, the holder still listed', async () => {
  const child = await spawnHolder(dir);
  try {
    const pid = child.pid!;
    const dev = devName(fileId(dir)!.dev);
    expect(findDeviceHolders(dev, dir).find((h) => h.pid === pid)).toEqual({ pid, command: 'sleep 600', how: expect.arrayContaining(['cwd']) });
    const eio = failOn('readlinkSync', `/proc/${pid}/ns/mnt`, 'EIO');
    expect(findDeviceHolders(dev, dir).find((h) => h.pid === pid)?.how).toEqual(expect.arrayContaining(['mount namespace unreadable (EIO)', 'cwd']));
    eio.mockRestore();
    expect(findDeviceHolders('0:1', dir).find((h) => h.pid === pid)).toBeUndefined();
  } finally {
    await stopChild(child);
  }
});
