// Renders the man pages from their roff sources in man/: the version and date filled in, and in
// state-overlay(8) the options and commands taken from the program's own definition.
import { synopsis, type CommandHelp, type HelpTree, type OptionHelp } from './help-tree.js';

/** Escapes text for roff: backslashes, minus signs, and lines that would read as requests. */
export function roffEscape(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** `--root <DIR>` as bold flags with an italic value. */
function flagsRoff(o: OptionHelp): string {
  return o.flags
    .split(/(<[^>]+>|\[[^\]]+\])/)
    .map((part) => (/^[<[]/.test(part) ? `\\fI${roffEscape(part.slice(1, -1))}\\fR` : `\\fB${roffEscape(part)}\\fR`))
    .join('');
}

function optionsRoff(options: readonly OptionHelp[]): string[] {
  return options.flatMap((o) => ['.TP', flagsRoff(o), roffEscape(o.description)]);
}

function commandRoff(c: CommandHelp): string[] {
  const alias = c.aliases.length > 0 ? ` (alias ${c.aliases.join(', ')})` : '';
  const lines = [`.SS "${roffEscape(synopsis(c))}${roffEscape(alias)}"`, roffEscape(c.description.replace(/^./, (ch) => ch.toUpperCase())) + '.'];
  for (const a of c.args) lines.push('.TP', `\\fI${roffEscape(a.name)}\\fR`, roffEscape(a.description));
  const own = c.options.filter((o) => !o.names.includes('--help'));
  return [...lines, ...optionsRoff(own)];
}

/** The roff sources that `install-system` renders into share/man. */
export const MAN_SOURCES = ['state-overlay.8', 'state-overlay.conf.5', 'state-overlay@.service.8'] as const;

/** Fills one source (`man/NAME.in`'s text): @VERSION@, @DATE@, @OPTIONS@, @COMMANDS@. */
export function renderManPage(source: string, tree: HelpTree, date: string): string {
  const fill: Record<string, () => string[]> = {
    VERSION: () => [roffEscape(tree.version)],
    DATE: () => [date],
    OPTIONS: () => optionsRoff(tree.program.options),
    COMMANDS: () => tree.commands.flatMap(commandRoff),
  };
  const lines = source.split('\n').flatMap((line) => {
    const whole = /^@([A-Z]+)@$/.exec(line);
    if (whole && fill[whole[1]!]) return fill[whole[1]!]!();
    return [line.replace(/@(VERSION|DATE)@/g, (_m, k: string) => fill[k]!()[0]!)];
  });
  const left = lines.find((l) => /@[A-Z]+@/.test(l) && !l.startsWith('.\\"'));
  if (left !== undefined) throw new Error(`man page: unfilled placeholder in ${JSON.stringify(left)}`);
  return lines.join('\n');
}
