// The docs cover the real program: every command, option and config key, the exit codes, and links that resolve.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { KINDS } from '../../src/cli/render/json.js';
import { normalizeConfig } from '../../src/config/normalize.js';
import { ExitCode } from '../../src/errors.js';
import { DOCS, REPO, anchors, markdownFiles, read, relativeLinks, section, withoutFences } from './markdown.js';

const program = buildProgram();
const cliDoc = read(path.join(DOCS, 'cli.md'));
const configDoc = read(path.join(DOCS, 'configuration.md'));

const commands = program.commands.map((c) => ({
  name: c.name(),
  aliases: c.aliases(),
  options: c.options.map((o) => o.long ?? o.short!),
  args: c.registeredArguments.map((a) => a.name()),
}));

/** The message of what normalizeConfig throws for one entry. */
function configMessage(section: string, key: string): string {
  try {
    normalizeConfig('opt', '/opt', [{ section, key, value: 'x', file: 'f.conf', line: 1 }], []);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`[${section}] ${key}= was accepted`);
}

/** Sections and keys as the configuration code itself lists them in its "unknown" errors. */
function configKeys(): Array<[string, string]> {
  const sections = [...configMessage('NoSuchSection', 'K').split('expected ')[1]!.matchAll(/\[(\w+)\]/g)].map((m) => m[1]!);
  return sections.flatMap((s) => {
    const listed = configMessage(s, 'NoSuchKey').split(', expected ')[1]!;
    return listed.split(/, | or /).map((k): [string, string] => [s, k]);
  });
}

describe('docs/cli.md', () => {
  it('walks a program with every command registered', () => {
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(['backups', 'config', 'diff', 'index', 'mount', 'reconcile', 'restore', 'run', 'status', 'unmount', 'vacuum']));
  });

  it.each(commands.map((c) => [c.name, c] as const))('documents %s with its arguments, options and aliases', (name, c) => {
    const body = section(cliDoc, `### \`state-overlay ${name} `) ?? section(cliDoc, `### \`state-overlay ${name}\``);
    expect(body, `no "### \`state-overlay ${name}" heading`).toBeDefined();
    const heading = body!.split('\n')[0]!;
    for (const a of c.args) expect(heading).toContain(a);
    for (const o of c.options) expect(body).toContain(`\`${o}\``);
    for (const a of c.aliases) expect(heading).toContain(`\`${a}\``);
  });

  it.each(program.options.map((o) => [o.flags, o] as const))('documents the global option %s', (_flags, o) => {
    const body = section(cliDoc, '## Global options')!;
    expect(body).toContain(`\`${o.flags}`);
  });

  it('mentions no command or option the program lacks', () => {
    const known = new Set(['--help', ...program.options.map((o) => o.long!), ...commands.flatMap((c) => c.options)]);
    const mentioned = new Set([...withoutFences(cliDoc).matchAll(/`(--[a-z][a-z-]*)/g)].map((m) => m[1]!));
    expect([...mentioned].filter((o) => !known.has(o))).toEqual([]);
    const headed = [...cliDoc.matchAll(/^### `state-overlay ([a-z]+)/gm)].map((m) => m[1]!);
    expect(headed.filter((n) => n !== 'help' && !commands.some((c) => c.name === n))).toEqual([]);
  });

  it.each(Object.entries(ExitCode))('lists exit code %s = %i in cli.md and README', (_name, code) => {
    expect(section(cliDoc, '## Exit codes')).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'));
    expect(section(read(path.join(REPO, 'README.md')), '## Exit codes')).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'));
  });
});

describe('docs/configuration.md', () => {
  const keys = configKeys();

  it('finds the sections and keys through the configuration code', () => {
    expect(keys.length).toBeGreaterThanOrEqual(13);
    expect(keys).toContainEqual(['Backups', 'Keep']);
  });

  it.each(keys)('documents [%s] %s= in its section', (sec, key) => {
    const body = section(configDoc, `## [${sec}]`);
    expect(body, `no "## [${sec}]" heading`).toBeDefined();
    expect(body).toMatch(new RegExp(`^\\| \`${key}=\` \\|`, 'm'));
  });

  it('documents no key the code lacks', () => {
    const rows = [...configDoc.matchAll(/^## \[(\w+)\]\n([\s\S]*?)(?=^## |(?![\s\S]))/gm)].flatMap((m) =>
      [...m[2]!.matchAll(/^\| `(\w+)=` \|/gm)].map((r) => [m[1]!, r[1]!]),
    );
    expect(rows.filter(([s, k]) => !keys.some(([ks, kk]) => ks === s && kk === k))).toEqual([]);
    expect(rows.length).toBe(keys.length);
  });
});

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: { enum?: string[] };
}

/** Dotted names of every property below node, without descending into counts (a map by kind). */
function fieldsOf(node: SchemaNode, prefix = ''): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([k, v]) => {
    const name = prefix + k;
    return v.properties && k !== 'counts' ? [name, ...fieldsOf(v, `${name}.`)] : [name];
  });
}

describe('docs/status.md', () => {
  const statusDoc = read(path.join(DOCS, 'status.md'));
  const schema = JSON.parse(read(path.join(DOCS, 'status.schema.json'))) as { $defs: Record<string, SchemaNode> };
  const overlay = schema.$defs.overlay!;
  const nested = new Set(fieldsOf(overlay).filter((f) => f.includes('.')).map((f) => f.split('.')[0]!));

  it.each(fieldsOf(overlay).filter((f) => !nested.has(f)))('describes the field %s', (field) => {
    expect(statusDoc).toContain(`\`${field}\``);
  });

  it.each(Object.keys(schema.$defs.reconcileSummary!.properties!))('describes lastReconcile.%s', (field) => {
    const row = statusDoc.split('\n').find((l) => l.startsWith('| `lastReconcile` |'));
    expect(row).toContain(`\`${field}\``);
  });

  it.each([...(overlay.properties!.pending!.items!.enum ?? []), ...Object.keys(overlay.properties!.upper!.properties!.counts!.properties!)])(
    'names %s',
    (token) => expect(statusDoc).toContain(`\`${token}\``),
  );
});

describe('docs/cli.md: JSON output', () => {
  const body = section(cliDoc, '## JSON output')!;
  const rows = [...body.matchAll(/^\| `([a-z]+)` \| `([A-Za-z]+)`/gm)].map((m) => [m[1]!, m[2]!] as const);
  const schemaOf = (file: string) => JSON.parse(read(path.join(DOCS, file))) as SchemaNode & { $defs: Record<string, SchemaNode> };
  const [statusSchema, cliSchema] = [schemaOf('status.schema.json'), schemaOf('cli.schema.json')];

  it('names the kind of every document and the command that prints it', () => {
    expect(rows.map(([, kind]) => kind).sort()).toEqual(KINDS.filter((k) => k !== 'Error').sort());
    expect(rows.map(([command]) => command).sort()).toEqual(commands.map((c) => c.name).sort());
  });

  it('describes every field of the Error document any command prints when it fails', () => {
    const doc = section(cliDoc, '### Errors')!;
    for (const field of Object.keys(cliSchema.$defs.Error!.properties!).filter((f) => f !== 'apiVersion' && f !== 'kind')) expect(doc).toContain(`\`${field}\``);
  });

  it.each(rows)('describes the fields of %s --json (%s) in its section', (command, kind) => {
    const schema = kind === 'Status' ? statusSchema : cliSchema.$defs[kind]!;
    const doc = section(cliDoc, `### \`state-overlay ${command} `) ?? section(cliDoc, `### \`state-overlay ${command}\``)!;
    expect(doc).toContain(`\`${kind}\``);
    for (const field of Object.keys(schema.properties!).filter((f) => f !== 'apiVersion' && f !== 'kind')) expect(doc).toContain(`\`${field}\``);
  });
});

describe('links', () => {
  const pages = ['concepts', 'decision-table', 'configuration', 'cli', 'status', 'operations', 'image-build', 'troubleshooting', 'units', 'architecture'];

  it.each(pages)('docs/%s.md exists and the README links it', (page) => {
    expect(fs.existsSync(path.join(DOCS, `${page}.md`))).toBe(true);
    expect(relativeLinks(read(path.join(REPO, 'README.md')))).toContain(`docs/${page}.md`);
  });

  const cases = markdownFiles().flatMap((file) => relativeLinks(read(file)).map((link) => [path.relative(REPO, file), link] as const));

  it('finds links to check', () => expect(cases.length).toBeGreaterThan(40));

  it.each(cases)('%s: %s resolves', (from, link) => {
    const [target, anchor] = link.split('#') as [string, string | undefined];
    const file = target === '' ? path.join(REPO, from) : path.resolve(path.dirname(path.join(REPO, from)), target);
    expect(fs.existsSync(file), `${file} does not exist`).toBe(true);
    if (anchor !== undefined) {
      expect(file.endsWith('.md'), 'anchors only into Markdown').toBe(true);
      expect([...anchors(read(file))]).toContain(anchor);
    }
  });
});
