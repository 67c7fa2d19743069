// The layout's rules (docs/architecture.md), checked on the source itself: folders import each other in
// one direction only, only src/cli imports src/cli, the planner is pure, and no file grows past 300 lines.
// A graph of relative imports is all this needs; the lint rules (eslint.config.js) say the same per file.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(import.meta.dirname, '../src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The folder a source file belongs to: its first directory under src/, 'main' for the entry, '(root)' for the other top files. */
function folderOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel.length > 1) return rel[0]!;
  return rel[0] === 'main.ts' ? 'main' : '(root)';
}

/** Relative imports of one file, static, re-exported and dynamic, as source paths. */
export function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): string[] {
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => path.resolve(path.dirname(file), m[1]!).replace(/\.js$/, '.ts'));
}

const files = sources(SRC);
const edges = new Map<string, Map<string, string[]>>();
for (const f of files) {
  for (const target of importsOf(f)) {
    const [a, b] = [folderOf(f), folderOf(target)];
    if (a === b) continue;
    const out = edges.get(a) ?? new Map<string, string[]>();
    edges.set(a, out);
    out.set(b, [...(out.get(b) ?? []), `${path.relative(SRC, f)} -> ${path.relative(SRC, target)}`]);
  }
}

/** Every cycle between folders, each as the chain of imports that closes it (Tarjan would do; folders are few). */
function folderCycles(): string[] {
  const found: string[] = [];
  const reach = (from: string, to: string, seen = new Set<string>()): string[] | undefined => {
    for (const [next, why] of edges.get(from) ?? []) {
      if (next === to) return [why[0]!];
      if (seen.has(next)) continue;
      seen.add(next);
      const rest = reach(next, to, seen);
      if (rest) return [why[0]!, ...rest];
    }
    return undefined;
  };
  for (const folder of edges.keys()) {
    const loop = reach(folder, folder);
    if (loop) found.push(`${folder}: ${loop.join(', ')}`);
  }
  return found;
}

describe('architecture', () => {
  it('the import graph is read from the sources (the check below sees real edges)', () => {
    expect(edges.get('ops')?.has('plan')).toBe(true);
    expect(edges.get('cli')?.has('ops')).toBe(true);
    expect(importsOf('/x/a/b.ts', "import { y } from '../c/d.js';\nconst m = await import('./e.js');")).toEqual(['/x/c/d.ts', '/x/a/e.ts']);
  });

  it('no folder imports another that imports it back, directly or through others', () => {
    expect(folderCycles()).toEqual([]);
  });

  it('nothing outside src/cli imports from src/cli', () => {
    const offenders = [...edges].filter(([from]) => from !== 'cli' && from !== 'main').flatMap(([, to]) => to.get('cli') ?? []);
    expect(offenders).toEqual([]);
  });

  it('the planner imports only the model, the configuration schema and itself', () => {
    const allowed = new Set(['model', 'plan']);
    const bad = files
      .filter((f) => folderOf(f) === 'plan')
      .flatMap((f) => importsOf(f).filter((t) => !allowed.has(folderOf(t)) && path.relative(SRC, t) !== path.join('config', 'schema.ts')).map((t) => `${path.relative(SRC, f)} -> ${path.relative(SRC, t)}`));
    expect(bad).toEqual([]);
    const io = files.filter((f) => folderOf(f) === 'plan' && /from '(node:[^']+|fs|child_process|fs-xattr)'/.test(fs.readFileSync(f, 'utf8')));
    expect(io).toEqual([]);
  });

  it('docs/architecture.md names every folder of src/ and what it owns', () => {
    const doc = fs.readFileSync(path.join(SRC, '../docs/architecture.md'), 'utf8');
    const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.length).toBeGreaterThan(10);
    expect(folders.filter((f) => !doc.includes(`| [\`src/${f}/\`](../src/${f}/) |`))).toEqual([]);
  });

  it('no source file is over 300 lines', () => {
    const long = files.map((f) => [path.relative(SRC, f), fs.readFileSync(f, 'utf8').split('\n').length - 1] as const).filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });
});
