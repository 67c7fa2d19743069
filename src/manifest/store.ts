// Manifest files on disk: reads at any offset, streaming reads, in-memory views, file names and digests.
import type { Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { newSha256 } from '../hash.js';
import { StateOverlayError, ioError } from '../errors.js';
import { displayPath, type BaseEntry, type BaseView, type RelPath } from '../model/entry.js';
import type { Layout } from '../paths/layout.js';
import { lastAtOrBefore } from '../model/order.js';
import type { PackageClasses } from '../model/package-class.js';
import { ClassCollector, decodeClassRecord, type ClassItem } from './classes.js';
import { HEAD_SIZE, TRAILER_SIZE, checkCount, checkDigest, checkListed, decodeLayout, decodeRecord, decodeTable, isVersion2, type ManifestLayout, type ManifestEntry, type ManifestRecord } from './format.js';

const CHUNK = 1 << 20;
/** The first read of a sample (ReadOptions.first): a record takes about 150 bytes. */
const SAMPLE_CHUNK = 1 << 16;

/** A manifest file opened for reads at any offset; errors name the file. */
export interface ManifestFile {
  readonly size: number;
  /** The open file, for reads in C (native indexWalk); closed by close(). */
  readonly fd: number;
  /** Reads into buf[at, at + len) from the file's byte `position`; the number of bytes read. */
  read(buf: Buffer, at: number, len: number, position: number): number;
  close(): void;
}

/** The temp a writer of the manifest `to` renames into place, and the pattern of such temps (its group: the pid). */
export const manifestTemp = (to: string): string => `${to}.tmp-${process.pid}`;
export const MANIFEST_TEMP = /\.manifest\.tmp-(\d+)$/;

export function openManifest(file: string): ManifestFile {
  let fd: number;
  let size: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw ioError('open manifest', file, err);
  }
  try {
    size = fs.fstatSync(fd).size;
  } catch (err) {
    fs.closeSync(fd);
    throw ioError('stat manifest', file, err);
  }
  return {
    size,
    fd,
    read(buf, at, len, position) {
      try {
        return fs.readSync(fd, buf, at, len, position);
      } catch (err) {
        throw ioError('read manifest', file, err);
      }
    },
    close: () => fs.closeSync(fd),
  };
}

/** The bytes [from, from + len) of the file, fewer where it ends first. */
export function readAt(f: ManifestFile, from: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(Math.max(0, Math.min(len, f.size - from)));
  let n = 0;
  for (let r; n < buf.length && (r = f.read(buf, n, buf.length - n, from + n)) > 0; ) n += r;
  return buf.subarray(0, n);
}

/** Where the parts of an open manifest are (format.ts). */
export function readLayout(f: ManifestFile, file: string): ManifestLayout {
  return decodeLayout(readAt(f, 0, HEAD_SIZE), readAt(f, Math.max(0, f.size - TRAILER_SIZE), TRAILER_SIZE), f.size, file);
}

/** Feeds the bytes [from, to) of the file to hash. */
export function hashRange(f: ManifestFile, hash: Hash, from: number, to: number): void {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(0, to - from)));
  for (let at = from, n; at < to; at += n) {
    n = f.read(buf, 0, Math.min(buf.length, to - at), at);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
  }
}

/** The error for a manifest read as the one of a generation whose digest it does not have. */
export const notTheGeneration = (file: string, sha256: string) =>
  new StateOverlayError('corrupt', `${file}: not the manifest of generation manifest:${sha256} (changed since the generation was read)`, { path: file });

function layoutOf(file: string): ManifestLayout {
  const f = openManifest(file);
  try {
    return readLayout(f, file);
  } finally {
    f.close();
  }
}

/** The entry count a manifest's header (v1) or trailer (v2) declares. */
export const manifestCount = (file: string): number => layoutOf(file).count;

export interface ReadOptions {
  /** The digest of a `manifest:` generation (manifestDigest) the file must have, checked at the end. */
  readonly sha256?: string;
  /** Receives the package class records (classes.ts), which come before the entries. */
  readonly onClass?: (item: ClassItem) => void;
  /**
   * Only the first `first` records, for a sample: read from the start of the body, each decoded and
   * checked as ever, but neither the table, the count nor the digest (which need the whole file) is
   * checked: a caller that trusts more than the sample reads the whole manifest too.
   */
  readonly first?: number;
}

/**
 * Every record of a manifest file, streamed in bounded memory; the entry count is checked at the end,
 * and so is a v2 manifest's digest. Its table must list the records where they are.
 */
export function* readRecords(file: string, opts: ReadOptions = {}): Generator<ManifestRecord> {
  const f = openManifest(file);
  try {
    const layout = readLayout(f, file);
    if (opts.sha256 !== undefined && layout.digest !== undefined && layout.digest !== opts.sha256) throw notTheGeneration(file, opts.sha256);
    // A v2 manifest is always hashed (its trailer's digest); a v1 manifest only for a generation's digest.
    const whole = opts.first === undefined;
    const hash = whole && (layout.digest !== undefined || opts.sha256 !== undefined) ? newSha256() : undefined;
    // The table is checked against the records as they come (4 bytes an entry).
    const table = !whole || layout.version === 1 ? undefined : decodeTable(readAt(f, layout.recordsEnd, layout.count * 4), layout, file);
    let pos = 0;
    const read = (buf: Buffer, at: number, len: number) => {
      const n = f.read(buf, at, Math.min(len, layout.recordsEnd - pos), pos);
      hash?.update(buf.subarray(at, at + n));
      pos += n;
      return n;
    };
    read(Buffer.alloc(layout.bodyAt), 0, layout.bodyAt);
    let buf = Buffer.alloc(whole ? CHUNK : SAMPLE_CHUNK);
    let start = 0;
    let end = 0;
    let offset = layout.bodyAt; // file offset of buf[start]
    let seen = 0;
    while (true) {
      const c = decodeClassRecord(buf.subarray(0, end), start, file, offset - start);
      if (c) {
        if (seen > 0) throw new StateOverlayError('corrupt', `${file}: record at byte ${offset}: a class record after the entries`, { path: file });
        offset += c.next - start;
        start = c.next;
        opts.onClass?.(c.item);
        continue;
      }
      // offset - start: the file offset of buf[0], for the errors.
      const r = c === undefined ? undefined : decodeRecord(buf.subarray(0, end), start, file, offset - start);
      if (r !== undefined) {
        checkListed(table, seen, offset, file);
        seen++;
        offset += r.next - start;
        start = r.next;
        yield r.record;
        if (seen === opts.first) return;
        continue;
      }
      // Keep the partial record, make room (grow for a record longer than the buffer), read more.
      if (start > 0) {
        buf.copy(buf, 0, start, end);
        end -= start;
        start = 0;
      }
      if (end === buf.length) {
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, end);
        buf = bigger;
      }
      const n = read(buf, end, buf.length - end);
      if (n === 0) {
        if (end !== 0) throw new StateOverlayError('corrupt', `${file}: truncated record at byte ${offset}`, { path: file });
        break;
      }
      end += n;
    }
    if (!whole) return;
    checkCount(layout, seen, file);
    if (layout.digestAt !== undefined) {
      hashRange(f, hash!, layout.recordsEnd, layout.digestAt);
      checkDigest(layout, hash!, file);
    } else if (hash !== undefined && hash.digest('hex') !== opts.sha256) {
      throw notTheGeneration(file, opts.sha256 ?? '');
    }
  } finally {
    f.close();
  }
}

export function* readManifest(file: string, opts: ReadOptions = {}): Generator<ManifestEntry> {
  for (const r of readRecords(file, opts)) yield r.entry;
}

/** A BaseView holding the given entries (of a v1 manifest, the observation, tests and the live-base hasher). */
export function viewOf(entries: Iterable<BaseEntry>): BaseView {
  const map = new Map<RelPath, BaseEntry>();
  for (const e of entries) map.set(e.path, e);
  // Paths sorted on the first under(): those below dir are the run that starts with `dir/`.
  let sorted: RelPath[] | undefined;
  return {
    get: (p) => map.get(p),
    *under(dir) {
      sorted ??= [...map.keys()].sort();
      const prefix = dir === '' ? '' : `${dir}/`;
      for (let i = lastAtOrBefore(sorted, prefix) + 1; i < sorted.length && sorted[i]!.startsWith(prefix); i++) {
        if (sorted[i] !== dir) yield map.get(sorted[i]!)!;
      }
    },
  };
}

/** A path listed twice would be decided by whichever record came last: a damaged or forged manifest. */
export function* listedOnce(file: string, entries: Iterable<ManifestEntry>): Generator<ManifestEntry> {
  const seen = new Set<RelPath>();
  for (const e of entries) {
    if (seen.has(e.path)) throw new StateOverlayError('corrupt', `${file}: ${JSON.stringify(displayPath(e.path))} is listed twice`, { path: file });
    seen.add(e.path);
    yield e;
  }
}

/** File name of a generation's manifest under layout.manifestsDir: any generation string maps to one safe name. */
export function manifestPath(layout: Layout, generation: string): string {
  let name = '';
  for (const byte of Buffer.from(generation, 'utf8')) {
    const c = String.fromCharCode(byte);
    name += /[A-Za-z0-9_:-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (name === '' || name.length > 200) name = `sha256:${newSha256().update(generation, 'utf8').digest('hex')}`;
  return path.join(layout.manifestsDir, `${name}.manifest`);
}

/** The digest a v2 manifest's trailer records; undefined for any other file (a v1 manifest, or none). */
export function trailerDigest(file: string): string | undefined {
  const f = openManifest(file);
  try {
    return isVersion2(readAt(f, 0, HEAD_SIZE)) ? readLayout(f, file).digest : undefined;
  } finally {
    f.close();
  }
}

/**
 * The id of a `manifest:` generation: the digest a v2 manifest's trailer records (checked by whoever
 * reads the manifest), or the sha256 of the file's bytes.
 */
export function manifestDigest(file: string): string {
  const recorded = trailerDigest(file);
  if (recorded !== undefined) return recorded;
  const h = newSha256();
  const f = openManifest(file);
  try {
    hashRange(f, h, 0, f.size);
  } finally {
    f.close();
  }
  return h.digest('hex');
}

/**
 * The package classes a manifest records (at the paths select() holds for): they come before the first
 * entry record, where reading stops. A manifest older than classes has none (dbs null).
 */
export function readClasses(file: string, select?: (p: RelPath) => boolean): PackageClasses {
  const collect = new ClassCollector(select);
  for (const _ of readRecords(file, { onClass: (item) => collect.add(item) })) break;
  return collect.result();
}
