// Reads a Containerfile into stages of instructions (continuation lines joined, comments dropped).
export interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export function parseContainerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let s = lines[i]!.trim();
    if (s === '' || s.startsWith('#')) continue;
    while (s.endsWith('\\') && i + 1 < lines.length) s = `${s.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(s);
    if (!m) throw new Error(`Containerfile:${line}: not an instruction: ${s}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!;
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!f) throw new Error(`Containerfile:${line}: FROM ${args}`);
      stages.push({ from: f[1]!, name: f[2], instructions: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      continue;
    } else {
      const stage = stages[stages.length - 1];
      if (!stage) throw new Error(`Containerfile:${line}: ${op} before FROM`);
      stage.instructions.push({ op, args, line });
    }
  }
  return stages;
}

/** The shell commands of a RUN (split on `&&`), each as words; no quoting is used in the RUN lines this reads. */
export function runCommands(args: string): string[][] {
  return args.split('&&').map((c) => c.trim().split(/\s+/).filter(Boolean));
}
