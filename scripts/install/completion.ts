// Renders a bash completion script from the command tree: commands, their options, and NAMEs.
import type { HelpTree } from './help-tree.js';

const shellWord = /^[A-Za-z0-9_.-]+$/;

function words(list: readonly string[]): string {
  for (const w of list) if (!shellWord.test(w)) throw new Error(`completion: unexpected word ${JSON.stringify(w)}`);
  return list.join(' ');
}

export function bashCompletion(tree: HelpTree): string {
  const cases = tree.commands.map((c) => `    ${c.name}) opts="${words(c.options)}"; takes=${c.args > 0 ? 1 : 0} ;;`);
  return `# bash completion for state-overlay
_state_overlay() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd= i opts takes=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --root|--log-level) ((i++)) ;;
      -*) ;;
      *) cmd=\${COMP_WORDS[i]}; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "${words(tree.program.options)}" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "${words(tree.commands.map((c) => c.name))}" -- "$cur"))
    fi
    return
  fi
  case $cmd in
${cases.join('\n')}
    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif ((takes)); then
    # NAMEs: overlays with state or configuration on this host
    local names=$(shopt -s nullglob; for f in /var/lib/state-overlay/*/ /etc/state-overlay/*.conf /usr/lib/state-overlay/*.conf; do f=\${f%/}; f=\${f##*/}; echo "\${f%.conf}"; done)
    COMPREPLY=($(compgen -W "$names" -- "$cur"))
  fi
}
complete -F _state_overlay state-overlay
`;
}
