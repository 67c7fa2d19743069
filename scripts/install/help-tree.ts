// The command line as data for the man page and completion: names and options from the program
// itself, help texts from the installed bundle's own `--help` output.
import type { Command } from 'commander';
import { run } from '../../src/exec.js';

export interface CommandHelp {
  readonly name: string;
  readonly description: string;
  /** Long and short option flags (`--dry-run`, `-q`). */
  readonly options: readonly string[];
  /** Number of positional arguments the command takes (0: none). */
  readonly args: number;
  /** The command's `--help` output, verbatim. */
  readonly help: string;
}

export interface HelpTree {
  readonly version: string;
  readonly program: CommandHelp;
  readonly commands: readonly CommandHelp[];
}

function flagsOf(cmd: Command): string[] {
  const flags = cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
  return [...flags, '--help'];
}

function describe(cmd: Command, help: string): CommandHelp {
  return { name: cmd.name(), description: cmd.description(), options: flagsOf(cmd), args: cmd.registeredArguments.length, help };
}

/** Collects every visible command's help by running `node BUNDLE [CMD] --help`. */
export async function helpTree(program: Command, bundleFile: string, version: string): Promise<HelpTree> {
  const helpOf = async (argv: string[]) => (await run(process.execPath, [bundleFile, ...argv, '--help'], { env: { COLUMNS: '80' } })).stdout;
  const visible = program.createHelp().visibleCommands(program).filter((c) => c.name() !== 'help');
  const commands: CommandHelp[] = [];
  for (const c of visible) commands.push(describe(c, await helpOf([c.name()])));
  return { version, program: describe(program, await helpOf([])), commands };
}
