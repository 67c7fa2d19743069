// Base trees for /opt (v1, v2, ...): made into an ext4 image with `mke2fs -d` (a base disk), or
// written in place into a host directory (a virtio-fs share changed between boots).
import fs from 'node:fs';
import path from 'node:path';
import { cached, hashOf } from './cache.js';
import { ext4FromDir } from './disk.js';
import { LABEL } from './guest-files.js';

/** One entry of a base tree: file content, a symlink, or a directory. */
export type BaseNode = string | { readonly symlink: string } | { readonly dir: true; readonly mode?: number } | { readonly file: string; readonly mode: number };

export interface BaseSpec {
  /** Paths relative to the base root (the guest's /usr/lib/opt), '/'-separated. */
  readonly entries: Readonly<Record<string, BaseNode>>;
  /** Many generated files: `count` files `DIR/f00000.txt` with the given content prefix. */
  readonly bulk?: { readonly dir: string; readonly count: number; readonly content: string };
}

/** The spec's entries with its bulk files spelled out. */
function allEntries(spec: BaseSpec): Map<string, BaseNode> {
  const all = new Map<string, BaseNode>(Object.entries(spec.entries));
  if (spec.bulk) {
    all.set(spec.bulk.dir, { dir: true });
    for (let i = 0; i < spec.bulk.count; i++) all.set(`${spec.bulk.dir}/f${String(i).padStart(5, '0')}.txt`, `${spec.bulk.content} ${i}\n`);
  }
  return all;
}

/** Whether P already is NODE: same type, content or target, and mode where the spec sets one. */
function matches(p: string, node: BaseNode): boolean {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (st === undefined) return false;
  if (typeof node === 'string') return st.isFile() && (st.mode & 0o7777) === 0o644 && fs.readFileSync(p, 'utf8') === node;
  if ('symlink' in node) return st.isSymbolicLink() && fs.readlinkSync(p) === node.symlink;
  if ('dir' in node) return st.isDirectory() && (node.mode === undefined || (st.mode & 0o7777) === node.mode);
  return st.isFile() && (st.mode & 0o7777) === node.mode && fs.readFileSync(p, 'utf8') === node.file;
}

function writeNode(p: string, node: BaseNode): void {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  const isFile = typeof node === 'string' || 'file' in node;
  const isDir = typeof node !== 'string' && 'dir' in node;
  // a file is rewritten in place (same inode, as an editor or a package install that truncates does);
  // anything of another type goes first
  if (st !== undefined && !(isFile && st.isFile()) && !(isDir && st.isDirectory())) fs.rmSync(p, { recursive: true });
  fs.mkdirSync(path.dirname(p), { recursive: true });
  if (typeof node === 'string') {
    fs.writeFileSync(p, node);
    fs.chmodSync(p, 0o644);
  } else if ('symlink' in node) fs.symlinkSync(node.symlink, p);
  else if ('dir' in node) {
    fs.mkdirSync(p, { recursive: true });
    if (node.mode !== undefined) fs.chmodSync(p, node.mode);
  } else {
    fs.writeFileSync(p, node.file);
    fs.chmodSync(p, node.mode);
  }
}

/**
 * Makes the tree at ROOT hold exactly SPEC, touching only what differs: entries the spec lacks are
 * removed, changed files rewritten in place, the rest left as they are (inode and mtime kept).
 * Returns the paths it changed, sorted. An empty or absent ROOT gets the whole tree.
 */
export function updateTree(root: string, spec: BaseSpec): string[] {
  const want = allEntries(spec);
  const dirs = new Set<string>();
  for (const rel of want.keys()) for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const changed: string[] = [];
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  const prune = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const node = want.get(r);
      const isDir = fs.lstatSync(path.join(root, r)).isDirectory();
      // not in the spec, or where the spec needs a directory above its entries
      if (node === undefined && !(dirs.has(r) && isDir)) {
        fs.rmSync(path.join(root, r), { recursive: true });
        changed.push(r);
      } else if (isDir) prune(r);
    }
  };
  prune('');
  for (const [rel, node] of want) {
    if (matches(path.join(root, rel), node)) continue;
    writeNode(path.join(root, rel), node);
    changed.push(rel);
  }
  return changed.sort();
}

/** The cached raw ext4 image of a base tree. */
export async function baseDisk(spec: BaseSpec): Promise<string> {
  const dir = await cached('base', hashOf([JSON.stringify(spec)]), async (out) => {
    const tree = path.join(out, 'tree');
    updateTree(tree, spec);
    await ext4FromDir(tree, path.join(out, 'base.img'), LABEL.base, 64);
    fs.rmSync(tree, { recursive: true });
  });
  return path.join(dir, 'base.img');
}
