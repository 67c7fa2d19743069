// Upper trees for the cross-filesystem cases: a directory the base turns into a file (so the whole
// subtree goes to backups) holding every attribute a copy could drop.
import fs from 'node:fs';
import path from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { writeTree } from '../ops/scratch.js';
import { tree, type CaseSpec } from './cases.js';

/** A POSIX ACL xattr value (version 2): [tag, perm, id] entries, id -1 for the owner/group/mask/other ones. */
function acl(entries: Array<[number, number, number]>): Buffer {
  const b = Buffer.alloc(4 + 8 * entries.length);
  b.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => {
    b.writeUInt16LE(tag, 4 + 8 * i);
    b.writeUInt16LE(perm, 6 + 8 * i);
    b.writeUInt32LE(id >>> 0, 8 + 8 * i);
  });
  return b;
}
const [USER_OBJ, USER, GROUP_OBJ, MASK, OTHER] = [0x01, 0x02, 0x04, 0x10, 0x20];
/** security.capability v2: cap_net_bind_service, effective. */
const CAPABILITY = Buffer.from('0100000200040000000000000000000000000000', 'hex');

/** A directory the base turns into a file (so the upper's whole subtree goes to backups), holding every attribute. */
export async function attributeRich(u: string): Promise<void> {
  const d = path.join(u, 'turned');
  await writeTree(u, {
    turned: { dir: true, mode: 0o2770, uid: 12 },
    'turned/a': { file: 'a edited\n', mode: 0o4750, uid: 5, gid: 6 },
    'turned/sub': { dir: true, mode: 0o750, opaque: true },
    'turned/sub/f': 'f\n',
    'turned/l': { link: '../elsewhere' },
    'turned/wh': { whiteout: 'chardev' },
    'turned/fifo': { fifo: true },
  });
  fs.chownSync(d, 12, 34);
  // The top directory's own xattrs: what `cp -a` through a handle never copied.
  setAttributeSync(d, 'user.note', 'dir note');
  setAttributeSync(d, 'trusted.mine', Buffer.from([0, 1, 2, 0xff]));
  setAttributeSync(d, 'system.posix_acl_access', acl([[USER_OBJ, 7, -1], [USER, 5, 1000], [GROUP_OBJ, 7, -1], [MASK, 7, -1], [OTHER, 0, -1]]));
  setAttributeSync(d, 'system.posix_acl_default', acl([[USER_OBJ, 7, -1], [USER, 6, 1001], [GROUP_OBJ, 5, -1], [MASK, 7, -1], [OTHER, 0, -1]]));
  const a = path.join(d, 'a');
  setAttributeSync(a, 'user.k', 'v');
  setAttributeSync(a, 'security.capability', CAPABILITY);
  setAttributeSync(a, 'system.posix_acl_access', acl([[USER_OBJ, 7, -1], [USER, 4, 2000], [GROUP_OBJ, 5, -1], [MASK, 5, -1], [OTHER, 0, -1]]));
  fs.linkSync(a, path.join(d, 'sub/a-link'));
  setAttributeSync(path.join(d, 'sub'), 'user.sub', 'sub');
  fs.lchownSync(path.join(d, 'l'), 7, 8);
  const lfd = fs.openSync(path.join(d, 'l'), 0o10000000 | fs.constants.O_NOFOLLOW);
  setAttributeSync(`/proc/self/fd/${lfd}`, 'trusted.link', 'on the link');
  fs.closeSync(lfd);
  setAttributeSync(path.join(d, 'wh'), 'trusted.dev', 'on the device');
  // chown cleared the set-id bits: set them again.
  fs.chmodSync(a, 0o4750);
  fs.chmodSync(d, 0o2770);
  // A sparse file: 64 MiB long, 2 bytes written.
  const sparse = fs.openSync(path.join(d, 'sparse'), 'w');
  fs.writeSync(sparse, 'x', 0);
  fs.writeSync(sparse, 'y', (64 << 20) - 1);
  fs.closeSync(sparse);
  // Times from the past, directories last (their entries were just made).
  for (const p of ['a', 'sub/f', 'fifo', 'wh', 'sparse']) fs.utimesSync(path.join(d, p), 1_000_000_000.123456, 1_100_000_000.654321);
  fs.lutimesSync(path.join(d, 'l'), 1_000_000_001, 1_100_000_001.5);
  for (const p of ['turned/sub', 'turned']) fs.utimesSync(path.join(u, p), 1_000_000_002, 1_200_000_000.25);
}

export const RICH: CaseSpec = {
  name: 'EXDEV: every xattr, ACL, capability, time and hard link of a directory',
  v1: tree({ 'turned/a': 'a v1\n' }),
  upper: attributeRich,
  v2: (b) => {
    fs.rmSync(path.join(b, 'turned'), { recursive: true });
    fs.writeFileSync(path.join(b, 'turned'), 'now a file\n');
  },
};
