// Renders bash, zsh and fish completion from the command tree: commands, their options and the global
// ones (before or after the command), option values, overlay NAMEs and, for restore, backup SET names.
// NAMEs are found as `state-overlay status` finds overlays (state, run and config dirs), under --root
// when the line has one; SETs are the directories of the overlay's backups.
import { CONFIG_DIRS, RUN_ROOT } from '../../src/paths/layout.js';
import { STATE_ROOT } from '../../src/systemd/instance.js';
import type { CommandHelp, HelpTree, OptionHelp } from './help-tree.js';

/** Option values the shells can complete: --root a directory, --log-level one of these. */
export interface ValueWords {
  readonly [value: string]: readonly string[] | 'directory' | 'file';
}

const shellWord = /^[A-Za-z0-9_.@%+=/-]+$/;

function words(list: readonly string[]): string {
  for (const w of list) if (!shellWord.test(w)) throw new Error(`completion: unexpected word ${JSON.stringify(w)}`);
  return list.join(' ');
}

const names = (opts: readonly OptionHelp[]) => opts.flatMap((o) => o.names);
const valued = (opts: readonly OptionHelp[]) => opts.filter((o) => o.value !== undefined);
const argKinds = (c: CommandHelp) => c.args.map((a) => (a.name === 'NAME' || a.name === 'SET' ? a.name : 'none') + (a.variadic ? '+' : ''));

/** Shell lines that print the overlay NAMEs under root `$r`, one a line. */
function nameLister(): string {
  const dirs = [STATE_ROOT, RUN_ROOT].map((d) => `"$r${d}"/*/`);
  const conf = CONFIG_DIRS.flatMap((d) => [`"$r${d}"/*.conf`, `"$r${d}"/*.conf.d/`]);
  return `for f in ${[...dirs, ...conf].join(' ')}; do`;
}

export function bashCompletion(tree: HelpTree, values: ValueWords): string {
  const globals = tree.program.options;
  const allValued = [...valued(globals), ...tree.commands.flatMap((c) => valued(c.options))];
  const valueCases = [...new Map(allValued.map((o) => [o.names.join('|'), o])).values()].map((o) => {
    const v = values[o.value!];
    const action =
      v === 'directory' ? 'COMPREPLY=($(compgen -d -- "$cur"))' : v === 'file' ? 'COMPREPLY=($(compgen -f -- "$cur"))' : `COMPREPLY=($(compgen -W "${words(v ?? [])}" -- "$cur"))`;
    return `    ${o.names.join('|')}) ${action}; return ;;`;
  });
  const skip = allValued.flatMap((o) => o.names);
  const cmdCases = tree.commands.map((c) => `    ${[c.name, ...c.aliases].join('|')}) opts="${words(names(c.options))}"; kinds="${words(argKinds(c))}" ;;`);
  return `# bash completion for state-overlay, generated from its command definitions
_state_overlay_list() {
  # $1: names or sets; $2: root; $3: the overlay NAME (sets)
  local r=\${2%/} f
  if [[ $1 == sets ]]; then
    for f in "$r${STATE_ROOT}/$3/backups"/*/; do [[ -d $f ]] && f=\${f%/} && echo "\${f##*/}"; done
    return
  fi
  ${nameLister()}
    [[ -e $f ]] || continue
    f=\${f%/}; f=\${f##*/}; f=\${f%.d}; echo "\${f%.conf}"
  done | sort -u
}
_state_overlay() {
  # COMP_WORDS split at ':' (set names hold one): join those pieces back into whole words.
  local -a w=()
  local i join=0
  for ((i = 0; i <= COMP_CWORD; i++)); do
    if ((i > 0)) && [[ \${COMP_WORDS[i]} == : ]]; then w[-1]+=:; join=1
    elif ((join)); then w[-1]+=\${COMP_WORDS[i]}; join=0
    else w+=("\${COMP_WORDS[i]}")
    fi
  done
  local cur=\${w[-1]} prev= cmd= root= opts= kinds= n=${'${#w[@]}'}
  ((n > 1)) && prev=\${w[n - 2]}
  local -a pos=()
  for ((i = 1; i < n - 1; i++)); do
    case \${w[i]} in
      --root) root=\${w[i + 1]}; ((i++)) ;;
      --root=*) root=\${w[i]#--root=} ;;
${skip.length > 0 ? `      ${skip.join('|')}) ((i++)) ;;\n` : ''}      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=\${w[i]}; else pos+=("\${w[i]}"); fi ;;
    esac
  done
  case $prev in
${valueCases.join('\n')}
  esac
  COMPREPLY=()
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "${words(names(globals))}" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "${words(tree.commands.flatMap((c) => [c.name, ...c.aliases]))}" -- "$cur"))
    fi
    return
  fi
  case $cmd in
${cmdCases.join('\n')}
    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts ${words(names(globals))}" -- "$cur"))
    return
  fi
  local -a k=($kinds)
  local kind=\${k[\${#pos[@]}]:-}
  [[ -z $kind && \${k[-1]:-} == *+ ]] && kind=\${k[-1]}
  local list
  case \${kind%+} in
    NAME) list=names ;;
    SET) list=sets ;;
    *) return ;;
  esac
  # Matched and quoted one by one: NAMEs hold backslashes (opt-my\\x2dapp), which compgen -W would eat.
  local x q
  while IFS= read -r x; do
    printf -v q %q "$x"
    [[ $q == "$cur"* ]] && COMPREPLY+=("$q")
  done < <(_state_overlay_list $list "$root" "\${pos[0]:-}")
  # Only the part after the last ':' is replaced on the line.
  local done=\${cur:0:\${#cur} - \${#COMP_WORDS[COMP_CWORD]}}
  [[ -n $done ]] && COMPREPLY=("\${COMPREPLY[@]#"$done"}")
  return 0
}
complete -F _state_overlay state-overlay
`;
}

/** zsh's `[description]` and `:message:` text: no brackets, colons or single quotes unescaped. */
function zq(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/[[\]:]/g, (c) => `\\${c}`);
}

function zshSpec(o: OptionHelp, values: ValueWords): string[] {
  const v = o.value === undefined ? undefined : values[o.value];
  const what = v === 'directory' ? '_directories' : v === 'file' ? '_files' : `(${words(v ?? [])})`;
  const action = o.value === undefined ? '' : `:${zq(o.value)}:${what}`;
  const excl = o.names.length > 1 ? `(${o.names.join(' ')})` : '';
  if (o.names.length > 1) return [`'${excl}'{${o.names.join(',')}}'[${zq(o.description)}]${action}'`];
  return [`'${o.names[0]}[${zq(o.description)}]${action}'`];
}

export function zshCompletion(tree: HelpTree, values: ValueWords): string {
  const globals = tree.program.options.flatMap((o) => zshSpec(o, values));
  const cmds = tree.commands.flatMap((c) => [c.name, ...c.aliases].map((n) => `    '${n}:${zq(c.description)}'`));
  const argSpec = (c: CommandHelp) =>
    c.args.map((a, i) => {
      const action = a.name === 'NAME' ? '_state_overlay_names' : a.name === 'SET' ? '_state_overlay_sets' : '_files';
      if (a.variadic) return `'*:${a.name}:${action}'`;
      return `'${i + 1}:${a.required ? '' : ':'}${a.name}:${action}'`;
    });
  const cases = tree.commands.map(
    (c) => `    (${[c.name, ...c.aliases].join('|')}) _arguments -s $globals ${[...c.options.filter((o) => !o.names.includes('--help')).flatMap((o) => zshSpec(o, values)), ...argSpec(c)].join(' ')} ;;`,
  );
  return `#compdef state-overlay
# zsh completion for state-overlay, generated from its command definitions

# --root anywhere on the line (before the command too, which the inner _arguments no longer sees)
_state_overlay_root() {
  local -a w
  w=(\${(z)BUFFER})
  local i=\${w[(i)--root]}
  (( i < $#w )) && print -r -- \${(Q)w[i+1]}
}

_state_overlay_names() {
  local r=\${$(_state_overlay_root)%/} f
  local -a found
  for f in $r${STATE_ROOT}/*(N/) $r${RUN_ROOT}/*(N/) ${CONFIG_DIRS.map((d) => `$r${d}/*.conf(N) $r${d}/*.conf.d(N/)`).join(' ')}; do
    f=\${f:t}; f=\${f%.d}; found+=(\${f%.conf})
  done
  found=(\${(u)found})
  compadd -a found
}

_state_overlay_sets() {
  local r=\${$(_state_overlay_root)%/} name=\${line[1]}
  local -a sets
  sets=($r${STATE_ROOT}/$name/backups/*(N/:t))
  compadd -a -- sets
}

_state_overlay() {
  local curcontext=$curcontext state line ret=1
  typeset -A opt_args
  local -a globals
  globals=(${globals.join(' ')} '(-h --help)'{-h,--help}'[display help]')
  _arguments -C -s $globals '1:command:->command' '*::argument:->argument' && ret=0
  case $state in
    (command)
      local -a cmds
      cmds=(
${cmds.join('\n')}
      )
      _describe -t commands command cmds && ret=0 ;;
    (argument)
      case $line[1] in
${cases.join('\n')}
      esac ;;
  esac
  return ret
}

_state_overlay "$@"
`;
}

/** fish quotes: single quotes with \\ and \\' escaped. */
function fq(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishOption(o: OptionHelp, values: ValueWords, cond: string): string {
  const parts = ['complete -c state-overlay', cond];
  for (const n of o.names) parts.push(n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`);
  if (o.value !== undefined) {
    const v = values[o.value];
    parts.push(v === 'directory' || v === 'file' ? '-r -F' : `-x -a ${fq(words(v ?? []))}`);
  }
  parts.push(`-d ${fq(o.description)}`);
  return parts.filter(Boolean).join(' ');
}

export function fishCompletion(tree: HelpTree, values: ValueWords): string {
  const all = tree.commands.flatMap((c) => [c.name, ...c.aliases]);
  const lines = [
    '# fish completion for state-overlay, generated from its command definitions',
    'function __state_overlay_root',
    '    set -l t (commandline -opc)',
    '    set -l i (contains -i -- --root $t); and echo $t[(math $i + 1)]',
    'end',
    'function __state_overlay_names',
    '    set -l r (string trim -r -c / -- (__state_overlay_root))',
    `    for f in ${[STATE_ROOT, RUN_ROOT].map((d) => `$r${d}/*/`).join(' ')} ${CONFIG_DIRS.map((d) => `$r${d}/*.conf $r${d}/*.conf.d/`).join(' ')}`,
    "        string replace -r '\\.conf(\\.d)?$' '' -- (basename $f)",
    '    end | sort -u',
    'end',
    'function __state_overlay_sets',
    '    set -l r (string trim -r -c / -- (__state_overlay_root))',
    '    set -l t (commandline -opc)',
    `    set -l i (contains -i -- restore $t); or return`,
    '    set -l name $t[(math $i + 1)]',
    `    for f in $r${STATE_ROOT}/$name/backups/*/`,
    '        basename $f',
    '    end',
    'end',
    '# the words after the command that are not options: which argument is being typed',
    'function __state_overlay_nargs',
    '    set -l t (commandline -opc)',
    '    set -l n 0',
    '    set -l seen 0',
    `    set -l skip ${[...valued(tree.program.options), ...tree.commands.flatMap((c) => valued(c.options))].flatMap((o) => o.names).join(' ')}`,
    '    set -l i 2',
    '    while test $i -le (count $t)',
    '        if contains -- $t[$i] $skip',
    '            set i (math $i + 1)',
    "        else if not string match -q -- '-*' $t[$i]",
    '            if test $seen = 1; set n (math $n + 1); else; set seen 1; end',
    '        end',
    '        set i (math $i + 1)',
    '    end',
    '    echo $n',
    'end',
    'complete -c state-overlay -f',
    `complete -c state-overlay -n __fish_use_subcommand -a ${fq(all.join(' '))}`,
  ];
  for (const c of tree.commands) {
    for (const n of [c.name, ...c.aliases]) lines.push(`complete -c state-overlay -n '__fish_use_subcommand' -a ${n} -d ${fq(c.description)}`);
  }
  // Global options anywhere on the line.
  for (const o of tree.program.options) lines.push(fishOption(o, values, ''));
  for (const c of tree.commands) {
    const seen = `-n '__fish_seen_subcommand_from ${[c.name, ...c.aliases].join(' ')}'`;
    for (const o of c.options.filter((x) => !x.names.includes('--help'))) lines.push(fishOption(o, values, seen));
    c.args.forEach((a, i) => {
      const fn = a.name === 'NAME' ? '__state_overlay_names' : a.name === 'SET' ? '__state_overlay_sets' : undefined;
      if (fn === undefined) return;
      lines.push(`complete -c state-overlay -n '__fish_seen_subcommand_from ${[c.name, ...c.aliases].join(' ')}; and test (__state_overlay_nargs) -eq ${i}' -a '(${fn})'`);
    });
  }
  return lines.join('\n') + '\n';
}
