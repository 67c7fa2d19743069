// The guest image: the cached Debian tree plus this machine's Node binary, the project installed by
// its own install step, and the suite's guest files; split into a root disk and a /var disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/exec.js';
import { installSystem } from '../../scripts/install/install.js';
import { REPO, cached, hashOf, pruneOthers } from './cache.js';
import { ext4FromDir } from './disk.js';
import { LABEL, guestFilesKey, writeGuestFiles } from './guest-files.js';
import { debianRootfs, rootfsKey } from './rootfs.js';

export interface GuestImage {
  readonly dir: string;
  readonly root: string;
  readonly var: string;
  readonly kernel: string;
  readonly initrd: string;
}

function treeHash(dir: string): string {
  const files: Array<string | Buffer> = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = path.join(rel, d.name);
      if (d.isDirectory()) walk(r);
      else files.push(r, d.isSymbolicLink() ? fs.readlinkSync(path.join(dir, r)) : fs.readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  return hashOf(files);
}

/** Installs the project the way an image build does, into a scratch root, to key the image by it. */
async function installedProject(): Promise<{ dir: string; hash: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-install-'));
  await installSystem({ repo: REPO, destdir: dir, prefix: '/usr' });
  return { dir, hash: treeHash(dir) };
}

export async function guestImage(): Promise<GuestImage> {
  const rootfs = await debianRootfs();
  const project = await installedProject();
  try {
    const key = hashOf([rootfsKey(), { file: process.execPath }, project.hash, ...guestFilesKey()]);
    const dir = await cached('image', key, async (out) => {
      const stage = path.join(out, 'stage');
      await run('cp', ['-a', '--reflink=auto', path.join(rootfs, 'root'), stage]);
      fs.copyFileSync(process.execPath, path.join(stage, 'usr/bin/node'));
      fs.chmodSync(path.join(stage, 'usr/bin/node'), 0o755);
      fs.cpSync(project.dir, stage, { recursive: true, verbatimSymlinks: true, force: true });
      writeGuestFiles(stage);
      const kernel = fs.readdirSync(path.join(stage, 'boot')).find((f) => f.startsWith('vmlinuz-'));
      if (kernel === undefined) throw new Error(`${stage}/boot: no vmlinuz-*`);
      fs.copyFileSync(path.join(stage, 'boot', kernel), path.join(out, 'vmlinuz'));
      fs.copyFileSync(path.join(stage, 'boot', kernel.replace('vmlinuz-', 'initrd.img-')), path.join(out, 'initrd.img'));
      await ext4FromDir(path.join(stage, 'var'), path.join(out, 'var.img'), LABEL.var, 512);
      // /var lives on its own disk: the root keeps an empty mountpoint
      fs.rmSync(path.join(stage, 'var'), { recursive: true });
      fs.mkdirSync(path.join(stage, 'var'), { mode: 0o755 });
      await ext4FromDir(stage, path.join(out, 'root.img'), LABEL.root, 512);
      fs.rmSync(stage, { recursive: true });
    });
    pruneOthers('image', key);
    return {
      dir,
      root: path.join(dir, 'root.img'),
      var: path.join(dir, 'var.img'),
      kernel: path.join(dir, 'vmlinuz'),
      initrd: path.join(dir, 'initrd.img'),
    };
  } finally {
    fs.rmSync(project.dir, { recursive: true, force: true });
  }
}
