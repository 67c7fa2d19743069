// The man pages as install-system renders them: clean under groff's and man's warnings, every command,
// option, exit code and configuration key documented.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { helpTree } from '../../scripts/install/help-tree.js';
import { MAN_SOURCES, renderManPage } from '../../scripts/install/manpage.js';
import { buildProgram } from '../../src/cli/program.js';
import { ExitCode } from '../../src/errors.js';
import { configKeys } from '../config/keys.js';

const repo = path.resolve(import.meta.dirname, '../..');
const tree = helpTree(buildProgram(), '1.2.3');
const pages = Object.fromEntries(MAN_SOURCES.map((p) => [p, renderManPage(fs.readFileSync(path.join(repo, 'man', `${p}.in`), 'utf8'), tree, '2026-01-02')]));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-man-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The text of one `.SH` section (up to the next). */
function shSection(roff: string, title: string): string {
  const parts = roff.split(/^\.SH /m);
  const hit = parts.find((p) => p.split('\n')[0]!.replace(/"/g, '') === title);
  if (hit === undefined) throw new Error(`no .SH ${title}`);
  return hit;
}

describe.each(MAN_SOURCES)('%s', (page) => {
  const file = path.join(dir, page);
  fs.writeFileSync(file, pages[page]!);

  it('renders with no groff warnings', async () => {
    const r = await execa('groff', ['-man', '-Tutf8', '-ww', '-z', file], { reject: false });
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
  });

  it('renders with no man warnings', async () => {
    const r = await execa('man', ['-l', '--warnings', file], { reject: false, env: { MANPAGER: 'cat', MANWIDTH: '80' } });
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(r.stdout).toContain('state-overlay 1.2.3');
    expect(r.stdout).toContain('2026-01-02');
  });

  it('has a date, a version and no placeholder left', () => {
    expect(pages[page]!).toMatch(/^\.TH \S+ [58] "2026-01-02" "state\\-overlay 1\.2\.3" /m);
    expect(pages[page]!.split('\n').filter((l) => !l.startsWith('.\\"') && /@[A-Z]+@/.test(l))).toEqual([]);
  });
});

it('the warning check is live: an unknown macro is reported', async () => {
  const file = path.join(dir, 'bad.8');
  fs.writeFileSync(file, pages['state-overlay.8']!.replace('.SH DESCRIPTION', '.SH DESCRIPTION\n.NOSUCH'));
  const r = await execa('groff', ['-man', '-Tutf8', '-ww', '-z', file]);
  expect(r.stderr).toContain("warning: macro 'NOSUCH' not defined");
});

describe('state-overlay(8)', () => {
  const roff = pages['state-overlay.8']!;
  const esc = (s: string) => s.replace(/-/g, '\\-');

  it.each(tree.commands.map((c) => [c.name, c] as const))('documents %s with its arguments and options', (name, c) => {
    const body = roff.split(/^\.SS /m).find((s) => s.startsWith(`"${esc(name)}`));
    expect(body, `no .SS for ${name}`).toBeDefined();
    for (const a of c.args) expect(body).toContain(`\\fI${a.name}\\fR`);
    for (const o of c.options.filter((x) => !x.names.includes('--help'))) for (const n of o.names) expect(body).toContain(`\\fB${esc(n)}`);
  });

  it('documents every global option', () => {
    const body = shSection(roff, 'OPTIONS');
    for (const o of tree.program.options) for (const n of o.names) expect(body).toContain(esc(n));
  });

  it.each(Object.entries(ExitCode))('lists exit code %s = %i under EXIT STATUS', (_n, code) => {
    expect(shSection(roff, 'EXIT STATUS')).toMatch(new RegExp(`^\\.TP\\n\\.B ${code}\\n`, 'm'));
  });

  it.each(['systemd\\-escape (1)', 'systemd.unit (5)', 'ostree (1)', 'state\\-overlay.conf (5)', 'state\\-overlay@.service (8)'])('refers to %s', (ref) => {
    expect(shSection(roff, 'SEE ALSO')).toContain(`.BR ${ref}`);
  });
});

describe('state-overlay.conf(5)', () => {
  const roff = pages['state-overlay.conf.5']!;
  const keys = configKeys();

  it('finds the keys through the configuration code', () => {
    expect(keys.length).toBeGreaterThanOrEqual(13);
  });

  it.each(keys)('documents [%s] %s=', (section, key) => {
    expect(shSection(roff, `[${section.toUpperCase()}] SECTION`)).toMatch(new RegExp(`^\\.B[IR]? ${key}=`, 'm'));
  });

  it('documents the precedence of the directories and drop-ins', () => {
    const body = shSection(roff, 'FILES AND PRECEDENCE');
    for (const d of ['/etc/state\\-overlay/', '/run/state\\-overlay/', '/usr/lib/state\\-overlay/', 'NAME.conf.d/*.conf']) expect(body).toContain(d);
  });
});

describe('state-overlay@.service(8)', () => {
  const roff = pages['state-overlay@.service.8']!;
  const unit = fs.readFileSync(path.join(repo, 'units/state-overlay@.service'), 'utf8');

  it.each(['ORDERING', 'JOURNAL', 'SANDBOX'])('has a %s section', (s) => expect(shSection(roff, s).length).toBeGreaterThan(20));

  it.each([...unit.matchAll(/^((?:Before|After|Wants|Conflicts|RequiresMountsFor|DefaultDependencies)=\S+)$/gm)].map((m) => m[1]!))('explains %s', (line) => {
    expect(shSection(roff, 'ORDERING').replace(/\\-/g, '-')).toContain(line);
  });

  it('explains the reload', () => expect(roff).toContain('state\\-overlay run NAME \\-\\-reload'));
});
