// The command line as data for the man page and the completions, read from the commander program
// itself, so neither can drift from it.
import type { Command, Option } from 'commander';

export interface OptionHelp {
  /** As defined: `-q, --quiet`, `--root <DIR>`. */
  readonly flags: string;
  readonly description: string;
  /** Long and short spellings (`--quiet`, `-q`). */
  readonly names: readonly string[];
  /** The value's name (`DIR`) when the option takes one. */
  readonly value?: string;
}

export interface ArgHelp {
  /** `NAME`, `SET`, `PATH`. */
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  readonly variadic: boolean;
}

export interface CommandHelp {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly options: readonly OptionHelp[];
  readonly args: readonly ArgHelp[];
}

export interface HelpTree {
  readonly version: string;
  readonly program: CommandHelp;
  readonly commands: readonly CommandHelp[];
}

const HELP: OptionHelp = { flags: '-h, --help', description: 'display help', names: ['--help', '-h'] };

function optionHelp(o: Option): OptionHelp {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1];
  return {
    flags: o.flags,
    description: o.description,
    names: [o.long, o.short].filter((f): f is string => f !== undefined),
    ...(value === undefined ? {} : { value }),
  };
}

function describe(cmd: Command): CommandHelp {
  return {
    name: cmd.name(),
    aliases: cmd.aliases(),
    description: cmd.description(),
    options: [...cmd.options.map(optionHelp), HELP],
    args: cmd.registeredArguments.map((a) => ({ name: a.name(), description: a.description, required: a.required, variadic: a.variadic })),
  };
}

/** Every visible command of the program, with its options and arguments. */
export function helpTree(program: Command, version: string): HelpTree {
  const visible = program.createHelp().visibleCommands(program).filter((c) => c.name() !== 'help');
  return { version, program: describe(program), commands: visible.map(describe) };
}

/** The synopsis of one command: `restore NAME SET [PATH...]`. */
export function synopsis(c: CommandHelp): string {
  const args = c.args.map((a) => {
    const n = a.variadic ? `${a.name}...` : a.name;
    return a.required ? n : `[${n}]`;
  });
  return [c.name, ...args].join(' ');
}
