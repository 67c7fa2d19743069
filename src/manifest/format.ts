// The manifest file format: a 16-byte header, then one length-prefixed binary record per base entry.
// Names are stored as raw bytes, so any byte survives; records stream in walk order.
//
// header:  "SOVM" | u8 version (1) | 3 reserved zero bytes | u64 entry count (patched when complete)
// record:  u32 length of what follows | u8 type | u32 mode | u32 uid | u32 gid | u64 size |
//          u64 ino | i64 mtime ns | i64 ctime ns | u8 digest length (0 or 32) | digest | path bytes
// Package class records may come between the header and the first entry record (classes.ts).
// All integers little-endian. ino/mtime/ctime ("the stamp") let a re-index reuse a digest; 0 = unknown.
import { StateOverlayError } from '../errors.js';
import { displayPath, fromBytes, isEntryPath, type BaseEntry, type EntryType, type RelPath } from '../model/entry.js';
import { decodeClassRecord } from './classes.js';

export const MAGIC = Buffer.from('SOVM', 'latin1');
export const VERSION = 1;
export const HEADER_SIZE = 16;
const FIXED = 1 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 1;
/** Largest record accepted: a path of 64 KiB is far past anything a kernel hands out. */
const MAX_RECORD = FIXED + 32 + 65536;

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

export function encodeHeader(count = 0): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(b, 0);
  b.writeUInt8(VERSION, 4);
  b.writeBigUInt64LE(BigInt(count), 8);
  return b;
}

/** The entry count of a header (0 while a manifest is being written). */
export function decodeHeader(b: Buffer, file = 'manifest'): { count: number } {
  if (b.length < HEADER_SIZE || !b.subarray(0, 4).equals(MAGIC)) {
    throw new StateOverlayError('corrupt', `${file}: not a state-overlay manifest`, { path: file });
  }
  const version = b.readUInt8(4);
  if (version !== VERSION) {
    throw new StateOverlayError('corrupt', `${file}: manifest version ${version}, expected ${VERSION}`, { path: file });
  }
  if (b.readUIntLE(5, 3) !== 0) throw new StateOverlayError('corrupt', `${file}: header: reserved bytes: expected zeros`, { path: file });
  const count = b.readBigUInt64LE(8);
  if (count > BigInt(Number.MAX_SAFE_INTEGER)) throw new StateOverlayError('corrupt', `${file}: header: entry count ${count}: expected at most ${Number.MAX_SAFE_INTEGER}`, { path: file });
  return { count: Number(count) };
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
 * streaming reader then reads more); throws on a malformed record. select: the record's entry is built
 * only when it holds for the path (record null otherwise); every record is checked all the same.
 */
export function decodeRecord(buf: Buffer, offset: number, file?: string, select?: undefined, bufAt?: number): { record: ManifestRecord; next: number } | undefined;
export function decodeRecord(buf: Buffer, offset: number, file: string, select: (p: RelPath) => boolean, bufAt?: number): { record: ManifestRecord | null; next: number } | undefined;
/** bufAt: the file offset of buf[0], so that errors name the record's byte in the file. */
export function decodeRecord(buf: Buffer, offset: number, file = 'manifest', select?: (p: RelPath) => boolean, bufAt = 0): { record: ManifestRecord | null; next: number } | undefined {
  if (buf.length - offset < 4) return undefined;
  const len = buf.readUInt32LE(offset);
  const bad = (what: string) => new StateOverlayError('corrupt', `${file}: record at byte ${bufAt + offset}: ${what}`, { path: file });
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
  if (select !== undefined && !select(path)) return { record: null, next: end };
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

/** Every record of a whole manifest held in memory. */
export function parseRecords(bytes: Buffer, file = 'manifest'): ManifestRecord[] {
  const { count } = decodeHeader(bytes, file);
  const out: ManifestRecord[] = [];
  let o = HEADER_SIZE;
  while (o < bytes.length) {
    const c = decodeClassRecord(bytes, o, file);
    if (c) {
      if (out.length > 0) throw new StateOverlayError('corrupt', `${file}: record at byte ${o}: a class record after the entries`, { path: file });
      o = c.next;
      continue;
    }
    const r = c === undefined ? undefined : decodeRecord(bytes, o, file);
    if (r === undefined) throw new StateOverlayError('corrupt', `${file}: truncated record at byte ${o}`, { path: file });
    out.push(r.record);
    o = r.next;
  }
  if (out.length !== count) {
    throw new StateOverlayError('corrupt', `${file}: header counts ${count} entries, found ${out.length}`, { path: file });
  }
  return out;
}

/** The entries of a whole manifest held in memory (pure; for tests and small manifests). */
export function parseManifest(bytes: Buffer, file?: string): ManifestEntry[] {
  return parseRecords(bytes, file).map((r) => r.entry);
}
