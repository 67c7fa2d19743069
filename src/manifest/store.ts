// Manifest files on disk: streaming reads, selective in-memory views, file names and file digests.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError, ioError } from '../errors.js';
import { displayPath, type BaseEntry, type BaseView, type RelPath } from '../model/entry.js';
import type { Layout } from '../paths/layout.js';
import { lastAtOrBefore } from '../model/order.js';
import type { PackageClasses } from '../model/package-class.js';
import { ClassCollector, decodeClassRecord, type ClassItem } from './classes.js';
import { HEADER_SIZE, decodeHeader, decodeRecord, type ManifestEntry, type ManifestRecord } from './format.js';

const CHUNK = 1 << 20;

/** A manifest file opened for sequential reads; errors name the file. */
export function openManifest(file: string): { read(buf: Buffer, at: number, len: number): number; close(): void } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw ioError('open manifest', file, err);
  }
  return {
    read(buf, at, len) {
      try {
        return fs.readSync(fd, buf, at, len, null);
      } catch (err) {
        throw ioError('read manifest', file, err);
      }
    },
    close: () => fs.closeSync(fd),
  };
}

/** The entry count a manifest's header declares. */
export function manifestCount(file: string): number {
  const f = openManifest(file);
  try {
    const head = Buffer.alloc(HEADER_SIZE);
    return decodeHeader(head.subarray(0, f.read(head, 0, HEADER_SIZE)), file).count;
  } finally {
    f.close();
  }
}

export interface ReadOptions {
  /** The hex digest the file's bytes must have (a `manifest:` generation), checked at the end. */
  readonly sha256?: string;
  /** Only the records at paths for which this holds are yielded (all are checked). */
  readonly select?: (p: RelPath) => boolean;
  /** Receives the package class records (classes.ts), which come before the entries. */
  readonly onClass?: (item: ClassItem) => void;
}

/** Every record of a manifest file, streamed in bounded memory; the header's count is checked at the end. */
export function* readRecords(file: string, opts: ReadOptions = {}): Generator<ManifestRecord> {
  const f = openManifest(file);
  const hash = opts.sha256 === undefined ? undefined : crypto.createHash('sha256');
  const read = hash === undefined
    ? f.read
    : (buf: Buffer, at: number, len: number) => {
        const n = f.read(buf, at, len);
        hash.update(buf.subarray(at, at + n));
        return n;
      };
  try {
    const head = Buffer.alloc(HEADER_SIZE);
    const { count } = decodeHeader(head.subarray(0, read(head, 0, HEADER_SIZE)), file);
    let buf = Buffer.alloc(CHUNK);
    let start = 0;
    let end = 0;
    let offset = HEADER_SIZE; // file offset of buf[start]
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
      const r = c === undefined ? undefined : opts.select === undefined ? decodeRecord(buf.subarray(0, end), start, file, undefined, offset - start) : decodeRecord(buf.subarray(0, end), start, file, opts.select, offset - start);
      if (r !== undefined) {
        seen++;
        offset += r.next - start;
        start = r.next;
        if (r.record !== null) yield r.record;
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
    if (seen !== count) throw new StateOverlayError('corrupt', `${file}: header counts ${count} entries, found ${seen}`, { path: file });
    if (hash !== undefined && hash.digest('hex') !== opts.sha256) {
      throw new StateOverlayError('corrupt', `${file}: not the manifest of generation manifest:${opts.sha256 ?? ''} (changed since the generation was read)`, { path: file });
    }
  } finally {
    f.close();
  }
}

export function* readManifest(file: string, opts: ReadOptions = {}): Generator<ManifestEntry> {
  for (const r of readRecords(file, opts)) yield r.entry;
}

/** A BaseView holding the given entries (built by manifestView, or by tests and the live-base hasher). */
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

/**
 * The entries of a manifest for which select() holds (all when omitted), as a BaseView. sha256: the
 * digest the file must have (see readRecords).
 */
export function manifestView(file: string, select?: (p: RelPath) => boolean, opts: { sha256?: string } = {}): BaseView {
  return viewOf(once(file, readManifest(file, select === undefined ? opts : { ...opts, select })));
}

/** A path listed twice would be decided by whichever record came last: a damaged or forged manifest. */
function* once(file: string, entries: Iterable<ManifestEntry>): Generator<ManifestEntry> {
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
  if (name === '' || name.length > 200) name = `sha256:${crypto.createHash('sha256').update(generation, 'utf8').digest('hex')}`;
  return path.join(layout.manifestsDir, `${name}.manifest`);
}

/** sha256 of a manifest file's bytes (the id of a `manifest:` generation). */
export function manifestDigest(file: string): string {
  const h = crypto.createHash('sha256');
  const f = openManifest(file);
  try {
    const buf = Buffer.alloc(CHUNK);
    let n: number;
    while ((n = f.read(buf, 0, CHUNK)) > 0) h.update(buf.subarray(0, n));
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
