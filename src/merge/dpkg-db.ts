// The dpkg status database as data: deb822 stanzas keyed by Package and Architecture, each kept as the
// bytes it was read as, and dpkg's own order of them (lib/dpkg/dump.c sorts with pkg-show.c's
// pkg_sorter_by_nonambig_name_arch).

/** One package's stanza. */
export interface Stanza {
  /** `Package:Architecture`, or `Package` alone when the stanza has no Architecture. */
  readonly key: string;
  readonly package: string;
  readonly architecture: string | undefined;
  /** `Multi-Arch: same`: its info files are named `PKG:ARCH.*`, and dpkg names it with its architecture. */
  readonly multiArchSame: boolean;
  /** The stanza's lines as read (latin1, one char per byte), each ending in a newline, no blank line after. */
  readonly text: string;
}

/** The stanzas of one status file by key, in file order. */
export type StatusDb = ReadonlyMap<string, Stanza>;

export type ParsedStatus = { readonly kind: 'parsed'; readonly db: StatusDb } | { readonly kind: 'malformed'; readonly problems: readonly string[] };

const FIELD = /^([^\s:#-][^\s:]*):(.*)$/;

interface Draft {
  readonly start: number;
  readonly lines: string[];
  readonly fields: Map<string, string>;
  readonly problems: string[];
  /** The first line with a carriage return, if any. */
  cr?: number;
}

/**
 * The stanzas of a status file; `source` names the file in problems ('the new base'). A stanza without
 * Package, a line neither `Field: value` nor a continuation, a line of white space only, a carriage
 * return, a last line without its newline (dpkg reads none of these) and two stanzas of one key are
 * problems, each naming the stanza's first line.
 */
export function parseStatus(b: Buffer, source: string): ParsedStatus {
  const db = new Map<string, Stanza>();
  const problems: string[] = [];
  let draft: Draft | undefined;
  /** The stanza being read ends: kept, or its problems noted. */
  const close = () => {
    const d = draft;
    draft = undefined;
    if (d === undefined) return;
    const where = `${source}: the stanza at line ${d.start} (${JSON.stringify(d.lines[0]!.slice(0, -1))})`;
    const pkg = d.fields.get('package') ?? '';
    const architecture = d.fields.get('architecture') || undefined;
    const key = architecture === undefined ? pkg : `${pkg}:${architecture}`;
    // A CRLF file: dpkg never writes one, and does not take a "\r\n" line for the end of a stanza.
    const found =
      d.cr !== undefined
        ? [`has a carriage return at line ${d.cr} (CRLF line ends): dpkg neither writes nor reads them`]
        : [...d.problems, ...(pkg === '' ? ['has no Package field'] : db.has(key) ? [`is a second stanza for ${key}`] : [])];
    if (found.length > 0) problems.push(...found.map((p) => `${where} ${p}`));
    else db.set(key, { key, package: pkg, architecture, multiArchSame: d.fields.get('multi-arch') === 'same', text: d.lines.join('') });
  };
  const text = b.toString('latin1');
  const lines = text === '' ? [] : text.split(/(?<=\n)/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    if (line === '') {
      close();
      continue;
    }
    draft ??= { start: i + 1, lines: [], fields: new Map(), problems: [] };
    draft.lines.push(`${line}\n`);
    const field = FIELD.exec(line);
    if (!raw.endsWith('\n')) draft.problems.push(`has no newline at the end of line ${i + 1}, the file's last: dpkg cannot read that`);
    if (line.includes('\r')) draft.cr ??= i + 1;
    // dpkg takes such a line for neither the end of a stanza nor a value: it stops, or warns and reads on.
    else if (line.trim() === '') draft.problems.push(`has line ${i + 1} of white space only, which dpkg does not read as a blank line`);
    else if (field) draft.fields.set(field[1]!.toLowerCase(), field[2]!.trim());
    else if (!/^[ \t]/.test(line) || draft.lines.length === 1) draft.problems.push(`has line ${i + 1} ${JSON.stringify(line)}, neither "Field: value" nor a continuation line`);
  }
  close();
  return problems.length > 0 ? { kind: 'malformed', problems } : { kind: 'parsed', db };
}

const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/**
 * Stanzas in the order dpkg writes them: by package name, then by architecture. dpkg's sorter puts the one
 * instance it names without an architecture first, but dpkg reads no database where a package has several
 * instances unless all are Multi-Arch: same, which it always names with theirs: the architecture decides.
 */
export const inDpkgOrder = (stanzas: Iterable<Stanza>): Stanza[] =>
  [...stanzas].sort((a, b) => cmp(a.package, b.package) || cmp(a.architecture ?? '', b.architecture ?? ''));

/** The status file of these stanzas, in the order given: each stanza followed by a blank line, as dpkg writes. */
export const renderStatus = (stanzas: Iterable<Stanza>): Buffer => Buffer.from([...stanzas].map((s) => `${s.text}\n`).join(''), 'latin1');
