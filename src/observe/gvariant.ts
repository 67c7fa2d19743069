// The part of GVariant's serialization (GLib's "GVariant Serialisation" format) that ostree's runtime state
// files use: a dictionary `a{sv}` whose values are strings or dictionaries again. Offsets and sizes are
// checked against the bytes at every step; anything else is refused with what was expected.

/** A value read from an `a{sv}`: a string, a nested dictionary, or the type string of anything else. */
export type VardictValue = { readonly s: string } | { readonly dict: Vardict } | { readonly other: string };
export type Vardict = ReadonlyMap<string, VardictValue>;

export class GVariantError extends Error {}

/** How many bytes each framing offset takes in a container of size n. */
function offsetSize(n: number): number {
  if (n <= 0xff) return 1;
  if (n <= 0xffff) return 2;
  return 4;
}

function readOffset(b: Buffer, at: number, size: number): number {
  if (size === 1) return b.readUInt8(at);
  if (size === 2) return b.readUInt16LE(at);
  return b.readUInt32LE(at);
}

const align = (n: number, to: number): number => (n + to - 1) & ~(to - 1);

function str(b: Buffer, what: string): string {
  if (b.length === 0 || b[b.length - 1] !== 0) throw new GVariantError(`${what}: expected a nul-terminated string`);
  return b.subarray(0, b.length - 1).toString('utf8');
}

/** The elements of an array of variable-size elements (framing offsets at its end), each aligned to `to`. */
function elements(b: Buffer, to: number): Buffer[] {
  if (b.length === 0) return [];
  const size = offsetSize(b.length);
  if (b.length < size) throw new GVariantError('array: shorter than its framing offset');
  const tableStart = readOffset(b, b.length - size, size);
  if (tableStart > b.length - size || (b.length - tableStart) % size !== 0) throw new GVariantError('array: framing offsets out of bounds');
  const out: Buffer[] = [];
  let start = 0;
  for (let at = tableStart; at < b.length; at += size) {
    const end = readOffset(b, at, size);
    start = align(start, to);
    if (end < start || end > tableStart) throw new GVariantError('array: element out of bounds');
    out.push(b.subarray(start, end));
    start = end;
  }
  return out;
}

/** A variant `v`: its value's bytes, then a nul, then its type string. */
function variant(b: Buffer): { type: string; value: Buffer } {
  const nul = b.lastIndexOf(0);
  if (nul < 0) throw new GVariantError('variant: no type string');
  return { type: b.subarray(nul + 1).toString('latin1'), value: b.subarray(0, nul) };
}

/** Parses a serialized `a{sv}`. */
export function parseVardict(b: Buffer): Vardict {
  const out = new Map<string, VardictValue>();
  // A dict entry {sv} is aligned to 8 (a variant's alignment) and ends with the framing offset of its key.
  for (const e of elements(b, 8)) {
    const size = offsetSize(e.length);
    if (e.length < size + 1) throw new GVariantError('dictionary entry: too short');
    const keyEnd = readOffset(e, e.length - size, size);
    if (keyEnd < 1 || keyEnd > e.length - size) throw new GVariantError('dictionary entry: key out of bounds');
    const key = str(e.subarray(0, keyEnd), 'dictionary key');
    const v = variant(e.subarray(align(keyEnd, 8), e.length - size));
    if (v.type === 's') out.set(key, { s: str(v.value, `${key}`) });
    else if (v.type === 'a{sv}') out.set(key, { dict: parseVardict(v.value) });
    else out.set(key, { other: v.type });
  }
  return out;
}
