// Just enough Markdown for the docs tests: headings, sections, links and GitHub's heading anchors.
import fs from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const DOCS = path.join(REPO, 'docs');

export const read = (file: string): string => fs.readFileSync(file, 'utf8');

/** The text with fenced code blocks blanked out (their lines kept, so line numbers stay). */
export function withoutFences(text: string): string {
  let inFence = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*```/.test(line)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : line;
    })
    .join('\n');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, blanks to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Anchors of every heading in a Markdown text, with GitHub's -1, -2 suffixes for repeats. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutFences(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The body under the first heading that starts with `prefix`, up to the next heading of the same or a higher level. */
export function section(text: string, prefix: string): string | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(prefix));
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start]!)?.[0].length ?? 1;
  // A `#` line inside a fence (a shell comment, a config file's) is no heading.
  let fenced = false;
  const end = lines.findIndex((l, i) => {
    if (l.startsWith('```')) fenced = !fenced;
    return i > start && !fenced && /^#+\s/.test(l) && (/^#+/.exec(l)?.[0].length ?? 0) <= level;
  });
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** Relative link targets of a Markdown text (code spans and fences excluded). */
export function relativeLinks(text: string): string[] {
  const prose = withoutFences(text).replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** The Markdown files the link check covers: the README and every .md under docs/ and examples/. */
export function markdownFiles(): string[] {
  const under = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((d) => d.isFile() && d.name.endsWith('.md')).map((d) => path.join(d.parentPath, d.name));
  return [path.join(REPO, 'README.md'), ...under(DOCS).sort(), ...under(path.join(REPO, 'examples')).sort()];
}
