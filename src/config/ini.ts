// A systemd-style INI reader: sections, repeated keys, line numbers. Pure: text in, entries out.
//
// Hand-written on purpose: the npm INI parsers fold repeated keys into the last one and keep no
// line numbers, and both are what systemd semantics and `file:line:` errors need.
import { StateOverlayError } from '../errors.js';

export interface IniEntry {
  readonly section: string;
  readonly key: string;
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export function configError(file: string, line: number, message: string): StateOverlayError {
  return new StateOverlayError('config', `${file}:${line}: ${message}`, { path: file });
}

/** Parses one file; comments (`#`, `;`) only at line start, `\` continues a line, as in systemd. */
export function parseIni(text: string, file: string): IniEntry[] {
  const entries: IniEntry[] = [];
  const lines = text.split(/\r?\n/);
  let section: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!.trim();
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1).trimEnd() + ' ' + lines[++i]!.trim();
    }
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m) throw configError(file, lineNo, `malformed section header '${line}'`);
      section = m[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw configError(file, lineNo, `'${line}': expected Key=value`);
    if (section === undefined) throw configError(file, lineNo, `'${line}': assignment outside of a section`);
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) throw configError(file, lineNo, `'${key}': invalid key name`);
    entries.push({ section, key, value: line.slice(eq + 1).trim(), file, line: lineNo });
  }
  return entries;
}
