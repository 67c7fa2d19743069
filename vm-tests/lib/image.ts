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
  /** Booted read-only (the A/B slots of lib/slot-image.ts): the disk is attached as is, never copied. */
  readonly readOnlyRoot?: boolean;
  /** The kernel command line's root arguments, when not the ext4 root disk's (`root=LABEL=so-root`). */
  readonly rootArgs?: string;
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
async function installKey(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-install-'));
  try {
    await installSystem({ repo: REPO, destdir: dir, prefix: '/usr', layout: 'node' });
    fs.rmSync(path.join(dir, 'usr', CODE_CACHE));
    return treeHash(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let project: Promise<string> | undefined;
/** installKey() and the Node binary, computed once per run. */
export function projectKey(): Promise<string> {
  project ??= installKey().then((k) => hashOf([{ file: process.execPath }, k]));
  return project;
}

/** package.json's version: what the project's own build reports. */
export const PROJECT_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

export interface ProjectDeb {
  readonly file: string;
  /** What it is made of (the project and the version), for the keys of images that install it. */
  readonly key: string;
}

/** The project's .deb (`npm run package -- --format deb`) built as VERSION, cached per version by what it is made of. */
export async function projectDeb(version: string): Promise<ProjectDeb> {
  const kind = `deb-${version}`;
  const key = await projectKey();
  const dir = await cached(kind, key, async (out) => {
    await buildPackages({ repo: REPO, out, formats: ['deb'], version });
  });
  pruneOthers(kind, key);
  const [deb] = fs.readdirSync(dir).filter((f) => f.endsWith('.deb'));
  if (deb === undefined) throw new Error(`${dir}: no .deb`);
  return { file: path.join(dir, deb), key: hashOf([kind, key]) };
}

/** Where the phase scripts find `node` (agent.sh puts it on their PATH); the system's PATH has none. */
const HELPER_NODE = 'usr/lib/vm-agent/bin/node';

/** The Debian tree with the .deb installed by dpkg, as an image build's install step does, and the helper Node. */
export async function installedTree(stage: string, deb: ProjectDeb): Promise<void> {
  const rootfs = await debianRootfs();
  await run('cp', ['-a', '--reflink=auto', path.join(rootfs, 'root'), stage]);
  await run('dpkg', ['--root', stage, '--log=/dev/null', '-i', deb.file]);
  fs.mkdirSync(path.dirname(path.join(stage, HELPER_NODE)), { recursive: true });
  fs.copyFileSync(process.execPath, path.join(stage, HELPER_NODE));
  fs.chmodSync(path.join(stage, HELPER_NODE), 0o755);
}

/** What installedTree() makes, to key the images built on it by. */
export const installedTreeKey = (deb: ProjectDeb): string => hashOf([rootfsKey(), deb.key, { file: process.execPath }]);

/** Makes the root disk IMAGE of TREE. */
export type RootDisk = (tree: string, image: string) => Promise<void>;

const ext4Root: RootDisk = (tree, image) => ext4FromDir(tree, image, LABEL.root, 512);

/** The kernel and initrd out of STAGE, /var as its own disk and the rest as the root disk, into OUT; STAGE goes. */
export async function splitDisks(stage: string, out: string, rootDisk: RootDisk = ext4Root): Promise<void> {
  const kernel = fs.readdirSync(path.join(stage, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  if (kernel === undefined) throw new Error(`${stage}/boot: no vmlinuz-*`);
  fs.copyFileSync(path.join(stage, 'boot', kernel), path.join(out, 'vmlinuz'));
  fs.copyFileSync(path.join(stage, 'boot', kernel.replace('vmlinuz-', 'initrd.img-')), path.join(out, 'initrd.img'));
  await ext4FromDir(path.join(stage, 'var'), path.join(out, 'var.img'), LABEL.var, 512);
  // /var lives on its own disk: the root keeps an empty mountpoint
  fs.rmSync(path.join(stage, 'var'), { recursive: true });
  fs.mkdirSync(path.join(stage, 'var'), { mode: 0o755 });
  await rootDisk(stage, path.join(out, 'root.img'));
  fs.rmSync(stage, { recursive: true });
}

export const imageOf = (dir: string, readOnlyRoot?: true, rootArgs?: string): GuestImage => ({
  dir,
  root: path.join(dir, 'root.img'),
  var: path.join(dir, 'var.img'),
  kernel: path.join(dir, 'vmlinuz'),
  initrd: path.join(dir, 'initrd.img'),
  ...(readOnlyRoot ? { readOnlyRoot } : {}),
  ...(rootArgs === undefined ? {} : { rootArgs }),
});

export async function guestImage(): Promise<GuestImage> {
  const deb = await projectDeb(PROJECT_VERSION);
  const key = hashOf([installedTreeKey(deb), ...guestFilesKey()]);
  const dir = await cached('image', key, async (out) => {
    const stage = path.join(out, 'stage');
    await installedTree(stage, deb);
    writeGuestFiles(stage);
    await splitDisks(stage, out);
  });
  pruneOthers('image', key);
  return imageOf(dir);
}
