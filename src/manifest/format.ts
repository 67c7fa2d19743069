// The manifest file format: a header, one length-prefixed binary record per base entry in walk order,
// then (version 2) a table of the records' offsets and a trailer with the file's digest. Names are
// stored as raw bytes, so any byte survives.
//
// v2:      "SOVM" | u8 version (2) | 3 reserved zero bytes | records | table | trailer
//   table:   u32 byte offset of each entry record, in the order of their paths (the walk's, comparePaths),
//            which is the order they are written in: looked up by binary search, never decoded whole
//   trailer: u64 entry count | u64 byte offset of the table | sha256 of every byte before it (the
//            digest, `head -c -32 FILE | sha256sum`): the manifest's id, checked by whoever reads it
// v1:      "SOVM" | u8 version (1) | 3 reserved zero bytes | u64 entry count | records (read, never written)
// record:  u32 length of what follows | u8 type | u32 mode | u32 uid | u32 gid | u64 size |
//          u64 ino | i64 mtime ns | i64 ctime ns | u8 digest length (0 or 32) | digest | path bytes
// Package class records may come between the header and the first entry record (classes.ts).
// All integers little-endian. ino/mtime/ctime ("the stamp") let a re-index reuse a digest; 0 = unknown.
import type { Hash } from 'node:crypto';
import os from 'node:os';
import { newSha256 } from '../hash.js';
import { StateOverlayError } from '../errors.js';
import { displayPath, fromBytes, isEntryPath, type BaseEntry, type EntryType, type RelPath } from '../model/entry.js';
import { decodeClassRecord } from './classes.js';

export const MAGIC = Buffer.from('SOVM', 'latin1');
export const VERSION = 2;
/** Bytes a reader takes from the start of a manifest: the whole of a v1 header, which is the longer. */
export const HEAD_SIZE = 16;
export const TRAILER_SIZE = 48;
export const V2_HEADER = 8;
export const TABLE_ENTRY = 4;
const FIXED = 1 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 1;
/** Largest record accepted: a path of 64 KiB is far past anything a kernel hands out. */
export const MAX_RECORD = FIXED + 32 + 65536;

const TYPES: readonly EntryType[] = ['file', 'dir', 'symlink', 'chr', 'blk', 'fifo', 'socket'];
const HAS_DIGEST: ReadonlySet<EntryType> = new Set(['file', 'symlink', 'chr', 'blk']);

/** Identity of the entry's inode when it was recorded. */
export interface Stamp {
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}
export const NO_STAMP: Stamp = Object.freeze({ ino: 0n, mtimeNs: 0n, ctimeNs: 0n });

/** A base entry as a manifest records it: its digest is always known (sha256 hex, or '' for no content). */
export type ManifestEntry = Omit<BaseEntry, 'digest'> & { readonly digest: string };

export interface ManifestRecord {
  readonly entry: ManifestEntry;
  readonly stamp: Stamp;
}

/** Where the parts of a manifest file are, from its first HEAD_SIZE bytes, its last TRAILER_SIZE and its size. */
export interface ManifestLayout {
  readonly version: 1 | 2;
  readonly count: number;
  /** The first byte after the header: class records, then entry records. */
  readonly bodyAt: number;
  /** Where the records end: the table (v2), the end of the file (v1). */
  readonly recordsEnd: number;
  /** v2: the digest the trailer records (hex), over the bytes before digestAt. */
  readonly digest?: string;
  readonly digestAt?: number;
}

const corrupt = (file: string, what: string) => new StateOverlayError('corrupt', `${file}: ${what}`, { path: file });

function checkedCount(n: bigint, file: string, where: string): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(file, `${where}: entry count ${n}: expected at most ${Number.MAX_SAFE_INTEGER}`);
  return Number(n);
}

/** True when head starts as a version 2 manifest does. */
export const isVersion2 = (head: Buffer): boolean => head.length >= V2_HEADER && head.subarray(0, 4).equals(MAGIC) && head.readUInt8(4) === VERSION;

/** The layout of a manifest of `size` bytes; head and tail are its first and last bytes (as many as it has). */
export function decodeLayout(head: Buffer, tail: Buffer, size: number, file = 'manifest'): ManifestLayout {
  if (head.length < V2_HEADER || !head.subarray(0, 4).equals(MAGIC)) throw corrupt(file, 'not a state-overlay manifest');
  const version = head.readUInt8(4);
  if (version !== 1 && version !== VERSION) throw corrupt(file, `manifest version ${version}, expected 1 or ${VERSION}`);
  if (head.readUIntLE(5, 3) !== 0) throw corrupt(file, 'header: reserved bytes: expected zeros');
  if (version === 1) {
    if (head.length < 16) throw corrupt(file, 'not a state-overlay manifest');
    return { version, count: checkedCount(head.readBigUInt64LE(8), file, 'header'), bodyAt: 16, recordsEnd: size };
  }
  if (size < V2_HEADER + TRAILER_SIZE || tail.length < TRAILER_SIZE) throw corrupt(file, `${size} bytes: too short for a version 2 manifest (a truncated file?)`);
  const t = tail.subarray(tail.length - TRAILER_SIZE);
  const count = checkedCount(t.readBigUInt64LE(0), file, 'trailer');
  const table = t.readBigUInt64LE(8);
  const digestAt = size - 32;
  // The table fills the space between the records and the trailer: a truncated file never adds up.
  if (table < V2_HEADER || table + BigInt(count * TABLE_ENTRY) !== BigInt(size - TRAILER_SIZE)) {
    throw corrupt(file, `trailer: a table of ${count} entries at byte ${table} does not end where the trailer starts, at byte ${size - TRAILER_SIZE} (a truncated or damaged manifest)`);
  }
  return { version, count, bodyAt: V2_HEADER, recordsEnd: Number(table), digest: t.toString('hex', 16), digestAt };
}

/**
 * The table of a v2 manifest (its bytes from layout.recordsEnd): offsets strictly increasing, all within
 * the records. That each one is where the record before it ends is checked as records are read.
 */
export function decodeTable(bytes: Buffer, layout: ManifestLayout, file = 'manifest'): Uint32Array {
  const table = new Uint32Array(layout.count);
  // Copied whole, in the host's byte order: a read per entry cost more than the rest of a lookup.
  const raw = Buffer.from(table.buffer);
  bytes.copy(raw, 0, 0, raw.length);
  if (os.endianness() === 'BE') raw.swap32();
  let last = layout.bodyAt - 1;
  for (let i = 0; i < table.length; i++) {
    const at = table[i]!;
    if (at <= last || at >= layout.recordsEnd) {
      throw corrupt(file, `table: entry ${i}: offset ${at}: expected after ${last} and before the table at byte ${layout.recordsEnd}`);
    }
    last = at;
  }
  return table;
}

export function encodeEntry(entry: ManifestEntry, stamp: Stamp = NO_STAMP): Buffer {
  const dlen = entry.digest === '' ? 0 : 32;
  // Paths are binary strings: one byte per char, written back as latin1.
  const b = Buffer.allocUnsafe(4 + FIXED + dlen + entry.path.length);
  let o = b.writeUInt32LE(b.length - 4, 0);
  o = b.writeUInt8(TYPES.indexOf(entry.type) + 1, o);
  o = b.writeUInt32LE(entry.mode, o);
  o = b.writeUInt32LE(entry.uid, o);
  o = b.writeUInt32LE(entry.gid, o);
  o = b.writeBigUInt64LE(BigInt(entry.size), o);
  o = b.writeBigUInt64LE(stamp.ino, o);
  o = b.writeBigInt64LE(stamp.mtimeNs, o);
  o = b.writeBigInt64LE(stamp.ctimeNs, o);
  o = b.writeUInt8(dlen, o);
  // A hex write stops at the first character that is not hex: 32 bytes only from 64 hex digits.
  if (dlen !== 0 && (entry.digest.length !== 64 || b.write(entry.digest, o, 'hex') !== 32)) {
    throw new StateOverlayError('internal', `digest of ${entry.path} is not a sha256: ${entry.digest}`);
  }
  // What decodeRecord refuses is never written.
  if ((dlen === 32) !== HAS_DIGEST.has(entry.type) || entry.mode > 0o7777) {
    throw new StateOverlayError('internal', `${entry.path}: a ${entry.type} of mode 0o${entry.mode.toString(8)} with digest ${JSON.stringify(entry.digest)} cannot be recorded`);
  }
  b.write(entry.path, o + dlen, 'latin1');
  return b;
}

/**
 * Decodes the record at `offset` of buf. Returns undefined when buf ends before the record does (a
 * streaming reader then reads more); throws on a malformed record. bufAt: the file offset of buf[0],
 * so that errors name the record's byte in the file.
 */
export function decodeRecord(buf: Buffer, offset: number, file = 'manifest', bufAt = 0): { record: ManifestRecord; next: number } | undefined {
  if (buf.length - offset < 4) return undefined;
  const len = buf.readUInt32LE(offset);
  const bad = (what: string) => corrupt(file, `record at byte ${bufAt + offset}: ${what}`);
  if (len < FIXED + 1 || len > MAX_RECORD) throw bad(`length ${len} out of range`);
  if (buf.length - offset - 4 < len) return undefined;
  const o = offset + 4;
  const typeCode = buf.readUInt8(o);
  const type = TYPES[typeCode - 1];
  if (type === undefined) throw bad(`unknown type ${typeCode}`);
  const dlen = buf.readUInt8(o + 45);
  if (dlen !== 0 && dlen !== 32) throw bad(`digest length ${dlen}`);
  // A file, symlink or device has a digest of its content; a directory, FIFO or socket has none.
  if ((dlen === 32) !== HAS_DIGEST.has(type)) throw bad(`digest length ${dlen}: expected ${HAS_DIGEST.has(type) ? 32 : 0} for a ${type}`);
  const mode = buf.readUInt32LE(o + 1);
  if (mode > 0o7777) throw bad(`mode: expected permission bits (at most 0o7777), got 0o${mode.toString(8)}`);
  const size = buf.readBigUInt64LE(o + 13);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`size: expected at most ${Number.MAX_SAFE_INTEGER}, got ${size}`);
  const at = o + FIXED;
  const end = offset + 4 + len;
  if (at + dlen >= end) throw bad('empty path');
  const path = fromBytes(buf, at + dlen, end);
  if (!isEntryPath(path)) throw bad(`invalid path ${JSON.stringify(displayPath(path))}`);
  const entry = {
    path,
    type,
    mode,
    uid: buf.readUInt32LE(o + 5),
    gid: buf.readUInt32LE(o + 9),
    size: Number(size),
    digest: buf.toString('hex', at, at + dlen),
  };
  const stamp = { ino: buf.readBigUInt64LE(o + 21), mtimeNs: buf.readBigInt64LE(o + 29), ctimeNs: buf.readBigInt64LE(o + 37) };
  return { record: { entry, stamp }, next: end };
}

/**
 * The path of the record of `len` bytes at `offset` of buf, its other fields unchecked: a search only
 * compares paths, and decodeRecord checks each record it returns. undefined: not a path's place.
 */
export function recordPath(buf: Buffer, offset: number, len: number): RelPath | undefined {
  const dlen = buf[offset + 4 + 45];
  const at = offset + 4 + FIXED + (dlen === 32 ? 32 : 0);
  return (dlen === 0 || dlen === 32) && at < offset + len ? fromBytes(buf, at, offset + len) : undefined;
}

/**
 * comparePaths of the path of the record of `len` bytes at `offset` of buf and p, read from the bytes
 * without making a string (a search compares many paths it never returns). undefined: not a path's place.
 */
export function comparePathAt(buf: Buffer, offset: number, len: number, p: RelPath): number | undefined {
  const dlen = buf[offset + 4 + 45];
  const from = offset + 4 + FIXED + (dlen === 32 ? 32 : 0);
  const end = offset + len;
  if ((dlen !== 0 && dlen !== 32) || from >= end) return undefined;
  const n = Math.min(end - from, p.length);
  for (let k = 0; k < n; k++) {
    const x = buf[from + k]!;
    const y = p.charCodeAt(k);
    if (x !== y) return (x === 0x2f ? -1 : x) - (y === 0x2f ? -1 : y);
  }
  return end - from - p.length;
}

/** Refuses a v2 manifest whose bytes do not hash (a hash fed them, or the hex digest made) to the digest its trailer records. */
export function checkDigest(layout: ManifestLayout, hash: Hash | string, file: string): void {
  const got = typeof hash === 'string' ? hash : hash.digest('hex');
  if (got !== layout.digest) throw corrupt(file, `digest: the trailer records ${layout.digest ?? ''}, the bytes before it hash to ${got} (a damaged manifest)`);
}

/** Refuses a manifest whose header or trailer counts another number of entries than it holds. */
export function checkCount(layout: ManifestLayout, seen: number, file: string): void {
  if (seen !== layout.count) throw corrupt(file, `${layout.version === 1 ? 'header' : 'trailer'} counts ${layout.count} entries, found ${seen}`);
}

/** Refuses a record that is not where the table (if any) lists entry i. */
export function checkListed(table: Uint32Array | undefined, i: number, at: number, file: string): void {
  if (table !== undefined && table[i] !== at) throw corrupt(file, `table: entry ${i}: offset ${table[i] ?? 'none'}, but the record is at byte ${at}`);
}

/** Every record of a whole manifest held in memory. */
export function parseRecords(bytes: Buffer, file = 'manifest'): ManifestRecord[] {
  const layout = decodeLayout(bytes.subarray(0, HEAD_SIZE), bytes.subarray(Math.max(0, bytes.length - TRAILER_SIZE)), bytes.length, file);
  if (layout.digestAt !== undefined) checkDigest(layout, newSha256().update(bytes.subarray(0, layout.digestAt)), file);
  const table = layout.version === 1 ? undefined : decodeTable(bytes.subarray(layout.recordsEnd), layout, file);
  const records = bytes.subarray(0, layout.recordsEnd);
  const out: ManifestRecord[] = [];
  let o = layout.bodyAt;
  while (o < records.length) {
    const c = decodeClassRecord(records, o, file);
    if (c) {
      if (out.length > 0) throw corrupt(file, `record at byte ${o}: a class record after the entries`);
      o = c.next;
      continue;
    }
    const r = c === undefined ? undefined : decodeRecord(records, o, file);
    if (r === undefined) throw corrupt(file, `truncated record at byte ${o}`);
    checkListed(table, out.length, o, file);
    out.push(r.record);
    o = r.next;
  }
  checkCount(layout, out.length, file);
  return out;
}

/** The entries of a whole manifest held in memory (pure; for tests and small manifests). */
export function parseManifest(bytes: Buffer, file?: string): ManifestEntry[] {
  return parseRecords(bytes, file).map((r) => r.entry);
}
