// The dpkg status database as data: deb822 stanzas keyed by Package and Architecture, each kept as the
// bytes it was read as, and dpkg's own order of them (lib/dpkg/pkg-show.c, pkg_sorter_by_nonambig_name_arch).

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
}

/**
 * The stanzas of a status file; `source` names the file in problems ('the new base'). A stanza without
 * Package, a line neither `Field: value` nor a continuation, a carriage return (dpkg neither writes nor
 * reads one) and two stanzas of one key are problems, each naming the stanza's first line.
 */
export function parseStatus(b: Buffer, source: string): ParsedStatus {
  const db = new Map<string, Stanza>();
  const problems: string[] = [];
  let draft: Draft | undefined;
  const close = () => {
    if (draft === undefined) return;
    const d = draft;
    draft = undefined;
    const where = `${source}: the stanza at line ${d.start} (${JSON.stringify(d.lines[0]!.replace(/\n$/, ''))})`;
    const pkg = d.fields.get('package');
    if (pkg === undefined || pkg === '') d.problems.push('has no Package field');
    if (d.problems.length > 0) return void problems.push(...d.problems.map((p) => `${where} ${p}`));
    const architecture = d.fields.get('architecture') || undefined;
    const key = architecture === undefined ? pkg! : `${pkg}:${architecture}`;
    if (db.has(key)) return void problems.push(`${where} is a second stanza for ${key}`);
    db.set(key, { key, package: pkg!, architecture, multiArchSame: d.fields.get('multi-arch') === 'same', text: d.lines.join('') });
  };
  const text = b.toString('latin1');
  const lines = text === '' ? [] : text.split(/(?<=\n)/);
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    if (line === '' || (draft === undefined && line.trim() === '')) return close();
    draft ??= { start: i + 1, lines: [], fields: new Map(), problems: [] };
    draft.lines.push(`${line}\n`);
    const field = FIELD.exec(line);
    if (line.includes('\r')) draft.problems.push(`has a carriage return at line ${i + 1}: dpkg neither writes nor reads one`);
    else if (field) draft.fields.set(field[1]!.toLowerCase(), field[2]!.trim());
    else if (!/^[ \t]/.test(line) || draft.lines.length === 1) draft.problems.push(`has line ${i + 1} ${JSON.stringify(line)}, neither "Field: value" nor a continuation line`);
  });
  close();
  return problems.length > 0 ? { kind: 'malformed', problems } : { kind: 'parsed', db };
}

/**
 * dpkg's order of the status file: by package name, then the instance dpkg names without its architecture
 * first, then by architecture. `native` is dpkg's architecture (that of the `dpkg` package's stanza).
 */
export function dpkgOrder(native: string | undefined): (a: Stanza, b: Stanza) => number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const needsArch = (s: Stanza) => s.architecture !== undefined && (s.multiArchSame || (s.architecture !== native && s.architecture !== 'all'));
  return (a, b) => {
    if (a.package !== b.package) return cmp(a.package, b.package);
    if (a.architecture === b.architecture || (!needsArch(a) && !needsArch(b))) return 0;
    if (needsArch(a) && needsArch(b)) return cmp(a.architecture!, b.architecture!);
    return needsArch(a) ? 1 : -1;
  };
}

/** Stanzas in the order dpkg writes them; `native` taken from the `dpkg` package's own stanza among them. */
export function inDpkgOrder(stanzas: Iterable<Stanza>): Stanza[] {
  const all = [...stanzas];
  return all.sort(dpkgOrder(all.find((s) => s.package === 'dpkg')?.architecture));
}

/** The status file of these stanzas, in the order given: each stanza followed by a blank line, as dpkg writes. */
export const renderStatus = (stanzas: Iterable<Stanza>): Buffer => Buffer.from([...stanzas].map((s) => `${s.text}\n`).join(''), 'latin1');
