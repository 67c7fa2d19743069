// The guest image: the cached Debian tree with the project's .deb installed by dpkg (what boots is
// what ships), this machine's Node binary for the phase scripts only (off the system's PATH), and
// the suite's guest files; split into a root disk and a /var disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/exec.js';
import { CODE_CACHE, installSystem } from '../../scripts/install/install.js';
import { buildPackages } from '../../scripts/install/package.js';
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

/**
 * What the package is made of, to key the image by: the node layout's install (the same program,
 * addons, units, pages and completions) without its code cache; with the Node binary in the key, that
 * determines the single executable, whose own bytes differ in every build (V8's code cache).
 */
async function projectKey(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-install-'));
  try {
    await installSystem({ repo: REPO, destdir: dir, prefix: '/usr', layout: 'node' });
    fs.rmSync(path.join(dir, 'usr', CODE_CACHE));
    return treeHash(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Where the phase scripts find `node` (agent.sh puts it on their PATH); the system's PATH has none. */
const HELPER_NODE = 'usr/lib/vm-agent/bin/node';

export async function guestImage(): Promise<GuestImage> {
  const rootfs = await debianRootfs();
  const key = hashOf([rootfsKey(), { file: process.execPath }, await projectKey(), ...guestFilesKey()]);
  const dir = await cached('image', key, async (out) => {
    const stage = path.join(out, 'stage');
    await run('cp', ['-a', '--reflink=auto', path.join(rootfs, 'root'), stage]);
    const [deb] = await buildPackages({ repo: REPO, out: path.join(out, 'packages'), formats: ['deb'] });
    await run('dpkg', ['--root', stage, '--log=/dev/null', '-i', deb!]);
    fs.rmSync(path.join(out, 'packages'), { recursive: true });
    fs.mkdirSync(path.dirname(path.join(stage, HELPER_NODE)), { recursive: true });
    fs.copyFileSync(process.execPath, path.join(stage, HELPER_NODE));
    fs.chmodSync(path.join(stage, HELPER_NODE), 0o755);
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
}
