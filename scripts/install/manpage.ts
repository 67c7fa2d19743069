// Renders state-overlay(8) in plain roff from the program's own help texts.
import type { HelpTree } from './help-tree.js';

/** Escapes text for roff: backslashes, and lines that would read as requests. */
export function roffEscape(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** A block kept exactly as the program prints it (no filling, no hyphenation). */
function verbatim(text: string): string[] {
  return ['.nf', roffEscape(text.replace(/\s+$/, '')), '.fi'];
}

const FILES: ReadonlyArray<readonly [string, string]> = [
  ['/etc/state-overlay/NAME.conf, /run/state-overlay/NAME.conf, /usr/lib/state-overlay/NAME.conf', 'configuration; the first found wins, NAME.conf.d/*.conf drop-ins from all three apply on top'],
  ['/var/lib/state-overlay/NAME/', 'upper and work directories, state.json, manifests, the reconcile journal and backups'],
  ['/run/state-overlay/NAME/', 'the private read-only bind of the base; upper and work in ephemeral mode'],
  ['/usr/lib/state-overlay/NAME.manifest', 'the base manifest shipped in the image (state-overlay index --ship)'],
];

export function manPage(tree: HelpTree, date = ''): string {
  const lines = [
    `.TH STATE-OVERLAY 8 "${date}" "state-overlay ${tree.version}" "System Administration"`,
    '.SH NAME',
    `state-overlay \\- ${roffEscape(tree.program.description)}`,
    '.SH SYNOPSIS',
    '.B state-overlay',
    '[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]',
    '.SH DESCRIPTION',
    'Makes a directory shipped read-only in the OS image (such as /opt or /usr/local) writable with overlayfs,',
    'and reconciles the host\'s changes when a new image changes the base.',
    'The unit state\\-overlay@NAME.service runs it at boot, NAME being the systemd-escaped mountpoint.',
    '.SH OPTIONS',
    ...verbatim(tree.program.help),
    '.SH COMMANDS',
  ];
  for (const c of tree.commands) lines.push(`.SS "${roffEscape(c.name)}"`, ...verbatim(c.help));
  lines.push('.SH FILES');
  for (const [file, what] of FILES) lines.push('.TP', `.I ${roffEscape(file)}`, roffEscape(what));
  lines.push('.SH SEE ALSO', '.BR systemctl (1),', '.BR systemd.unit (5),', '.BR mount (8)', '');
  return lines.join('\n');
}
