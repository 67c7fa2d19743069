// The shell completions install-system writes, generated from the program's definition: every command
// and option in each, and bash (and fish) completing commands, options, values, NAMEs and backup SETs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { bashCompletion, fishCompletion, zshCompletion } from '../../scripts/install/completion.js';
import { helpTree } from '../../scripts/install/help-tree.js';
import { VALUE_WORDS } from '../../scripts/install/install.js';
import { buildProgram } from '../../src/cli/program.js';

const tree = helpTree(buildProgram(), '1.2.3');
const scripts = { bash: bashCompletion(tree, VALUE_WORDS), zsh: zshCompletion(tree, VALUE_WORDS), fish: fishCompletion(tree, VALUE_WORDS) };
const SET = '20261202T004719423Z-tree:9edeb0f33d61591d45ceab8a0aa2092d71a42f64296ba839978635491fc3d604';

// A host: opt with state and a backup set, usr-local configured only, opt-my\x2dapp by a drop-in dir,
// srv with a run dir only.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'so-compl-'));
fs.mkdirSync(path.join(root, 'var/lib/state-overlay/opt/backups', SET), { recursive: true });
fs.mkdirSync(path.join(root, 'var/lib/state-overlay/opt/backups/20260101T000000000Z-tree:00'), { recursive: true });
fs.mkdirSync(path.join(root, 'etc/state-overlay/opt-my\\x2dapp.conf.d'), { recursive: true });
fs.mkdirSync(path.join(root, 'usr/lib/state-overlay'), { recursive: true });
fs.writeFileSync(path.join(root, 'usr/lib/state-overlay/usr-local.conf'), '');
fs.mkdirSync(path.join(root, 'run/state-overlay/srv'), { recursive: true });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const allCommands = tree.commands.flatMap((c) => [c.name, ...c.aliases]);

describe.each(Object.keys(scripts) as (keyof typeof scripts)[])('%s completion', (shell) => {
  it.each(tree.commands.map((c) => [c.name, c] as const))('names %s and each of its options', (name, c) => {
    expect(scripts[shell]).toContain(name);
    for (const o of c.options) for (const n of o.names) expect(scripts[shell]).toContain(shell === 'fish' ? (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`) : n);
  });

  it('names every global option', () => {
    for (const o of tree.program.options) for (const n of o.names) expect(scripts[shell]).toContain(shell === 'fish' ? (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`) : n);
  });
});

/**
 * Runs the bash completion for `words` as bash's readline splits them (COMP_WORDBREAKS holds ':', so
 * a set name comes as three words), the cursor at the end; the replies, one a line.
 */
async function bashComplete(words: string[]): Promise<string[]> {
  const split = words.flatMap((w) => w.split(/(:)/).filter((x) => x !== ''));
  if (words.at(-1) === '') split.push('');
  const quoted = split.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ');
  const script = `${scripts.bash}
complete -p state-overlay
COMP_WORDS=(${quoted}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _state_overlay; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await execa('bash', ['--norc', '-c', script]);
  const [registered, ...replies] = r.stdout.split('\n');
  expect(registered).toBe('complete -F _state_overlay state-overlay');
  return replies.filter((l) => l !== '');
}

describe('bash completes', () => {
  it.each([
    [['state-overlay', ''], allCommands],
    [['state-overlay', 're'], ['reconcile', 'restore', 'reset']],
    [['state-overlay', 'st'], ['status']],
    [['state-overlay', '--j'], ['--json']],
    [['state-overlay', '--log-level', 'w'], ['warn']],
    [['state-overlay', 'status', '--format', 'p'], ['prometheus']],
    [['state-overlay', 'status', '--f'], ['--format']],
    [['state-overlay', 'reconcile', '--d'], ['--dry-run']],
    // global options after the command too
    [['state-overlay', 'reconcile', '--j'], ['--json']],
    [['state-overlay', 'unmount', '--l'], ['--lazy', '--log-level']],
    [['state-overlay', 'umount', '--la'], ['--lazy']],
  ])('%j to %j', async (words, want) => {
    expect(await bashComplete(words)).toEqual(want);
  });

  it('overlay NAMEs from the state, run and configuration dirs under --root', async () => {
    expect(await bashComplete(['state-overlay', '--root', root, 'status', ''])).toEqual(['opt', 'opt-my\\\\x2dapp', 'srv', 'usr-local']);
    expect(await bashComplete(['state-overlay', 'mount', '--root', root, 'u'])).toEqual(['usr-local']);
    expect(await bashComplete(['state-overlay', '--root', root, 'diff', 'opt-m'])).toEqual(['opt-my\\\\x2dapp']);
  });

  it('backup SETs of the NAME for restore, the part after a colon as bash replaces it', async () => {
    expect(await bashComplete(['state-overlay', '--root', root, 'restore', 'opt', ''])).toEqual(['20260101T000000000Z-tree:00', SET]);
    expect(await bashComplete(['state-overlay', '--root', root, 'restore', 'opt', '2026120'])).toEqual([SET]);
    expect(await bashComplete(['state-overlay', '--root', root, 'restore', 'opt', SET.slice(0, 30)])).toEqual([SET.slice(SET.indexOf(':') + 1)]);
    expect(await bashComplete(['state-overlay', '--root', root, 'restore', 'usr-local', ''])).toEqual([]);
  });

  it('nothing for a NAME where the command takes none, or past the last argument', async () => {
    expect(await bashComplete(['state-overlay', '--root', root, 'status', 'opt', ''])).toEqual([]);
  });
});

describe('zsh and fish', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-compl-sh-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const zshFile = path.join(dir, '_state-overlay');
  const fishFile = path.join(dir, 'state-overlay.fish');
  fs.writeFileSync(zshFile, scripts.zsh);
  fs.writeFileSync(fishFile, scripts.fish);

  /** What zsh's completion system offers at the end of LINE (fixtures/zsh-capture.zsh drives an interactive zsh in a pty). */
  const zsh = async (line: string) => {
    const r = await execa('zsh', ['-f', path.join(import.meta.dirname, 'fixtures/zsh-capture.zsh'), dir, line], { cwd: dir, timeout: 30_000 });
    return r.stdout.split('\n').filter((l) => l !== '');
  };

  it('zsh completes commands, options (global ones after the command), values, NAMEs and SETs', async () => {
    expect(await zsh('state-overlay re')).toEqual(['reconcile', 'restore', 'reset']);
    expect(await zsh('state-overlay reconcile --d')).toEqual(['--dry-run']);
    expect(await zsh('state-overlay reconcile --js')).toEqual(['--json']);
    expect(await zsh('state-overlay status --format p')).toEqual(['prometheus']);
    expect((await zsh(`state-overlay --root ${root} status `)).sort()).toEqual(['opt', 'opt-my\\\\x2dapp', 'srv', 'usr-local']);
    expect(await zsh(`state-overlay --root ${root} restore opt 2026120`)).toEqual([SET]);
  });

  it('zsh parses the script', async () => {
    const r = await execa('zsh', ['-n', zshFile], { reject: false });
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(scripts.zsh.split('\n')[0]).toBe('#compdef state-overlay');
  });

  const fish = async (line: string) => {
    const r = await execa('fish', ['--no-config', '-c', `source ${fishFile}; complete -C ${JSON.stringify(line)}`]);
    return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]!);
  };

  it('fish completes commands, options, NAMEs and SETs', async () => {
    expect(await fish('state-overlay re')).toEqual(['reconcile', 'reset', 'restore']);
    expect(await fish('state-overlay reconcile --dr')).toEqual(['--dry-run']);
    expect(await fish('state-overlay reconcile --js')).toEqual(['--json']);
    expect(await fish('state-overlay status --format p')).toEqual(['prometheus']);
    expect(await fish(`state-overlay --root ${root} status u`)).toEqual(['usr-local']);
    expect(await fish(`state-overlay --root ${root} restore opt 2026120`)).toEqual([SET]);
  });
});
