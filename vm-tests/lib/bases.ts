// Base disks for /opt (v1, v2, ...): a generated tree made into an ext4 image with `mke2fs -d`.
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

/** Writes the tree SPEC describes under ROOT. */
export function writeTree(root: string, spec: BaseSpec): void {
  for (const [rel, node] of Object.entries(spec.entries)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (typeof node === 'string') fs.writeFileSync(p, node, { mode: 0o644 });
    else if ('symlink' in node) fs.symlinkSync(node.symlink, p);
    else if ('dir' in node) {
      fs.mkdirSync(p, { recursive: true });
      if (node.mode !== undefined) fs.chmodSync(p, node.mode);
    } else {
      fs.writeFileSync(p, node.file);
      fs.chmodSync(p, node.mode);
    }
  }
  if (spec.bulk) {
    const d = path.join(root, spec.bulk.dir);
    fs.mkdirSync(d, { recursive: true });
    for (let i = 0; i < spec.bulk.count; i++) {
      fs.writeFileSync(path.join(d, `f${String(i).padStart(5, '0')}.txt`), `${spec.bulk.content} ${i}\n`);
    }
  }
}

/** The cached raw ext4 image of a base tree. */
export async function baseDisk(spec: BaseSpec): Promise<string> {
  const dir = await cached('base', hashOf([JSON.stringify(spec)]), async (out) => {
    const tree = path.join(out, 'tree');
    fs.mkdirSync(tree, { mode: 0o755 });
    writeTree(tree, spec);
    await ext4FromDir(tree, path.join(out, 'base.img'), LABEL.base, 64);
    fs.rmSync(tree, { recursive: true });
  });
  return path.join(dir, 'base.img');
}
