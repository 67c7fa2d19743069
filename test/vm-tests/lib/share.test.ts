// The VM suite's virtio-fs share (10-virtiofs): QEMU's virtiofsd started on a host directory, its
// socket ready for QEMU, ended cleanly; a directory it cannot share fails with the reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHARE_TAG, shareArgs, startShare } from '../../../vm-tests/lib/share.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-vm-share-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('startShare', () => {
  it('serves the directory on a vhost-user socket until stopped', async () => {
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(tree);
    const log = path.join(dir, 'virtiofsd.log');
    const share = await startShare({ dir: tree, tag: SHARE_TAG, log });
    try {
      expect(fs.statSync(share.socket).isSocket()).toBe(true);
      // The daemon makes its socket, then says so on stderr: the line may land a moment later.
      await expect.poll(() => fs.readFileSync(log, 'utf8'), { timeout: 5000 }).toContain('Waiting for vhost-user socket connection');
      // the read-only bind lives in virtiofsd's namespace: the host's view stays writable
      fs.writeFileSync(path.join(tree, 'host-write'), 'x');
    } finally {
      await share.stop();
    }
    expect(fs.existsSync(share.socket)).toBe(false);
  });

  it('fails with the bind mount error when the directory does not exist', async () => {
    const log = path.join(dir, 'missing.log');
    await expect(startShare({ dir: path.join(dir, 'missing'), tag: SHARE_TAG, log })).rejects.toThrow(/made no socket within 5 s[\s\S]*missing/);
  });
});

describe('shareArgs', () => {
  it('backs all guest memory by a shared memfd and adds one vhost-user-fs device per share', () => {
    const s = { tag: 'so-share', socket: '/tmp/x/so-share.sock', stop: async () => undefined };
    expect(shareArgs([s], 1536)).toEqual([
      '-object', 'memory-backend-memfd,id=mem,size=1536M,share=on', '-numa', 'node,memdev=mem',
      '-chardev', 'socket,id=vfs0,path=/tmp/x/so-share.sock', '-device', 'vhost-user-fs-pci,chardev=vfs0,tag=so-share',
    ]);
    expect(shareArgs([], 1536)).toEqual([]);
  });
});
