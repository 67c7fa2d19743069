// Lookups by path in a manifest file without decoding it. A v2 manifest's records are in the order of
// their paths and its table says where each one is: the table is cut into ranges of RANGE entries
// whose records lie side by side in the file. The first path of every range is kept in memory (taken
// while the file is hashed for its digest), a search goes through those, then reads one range and
// decodes only the records it compares or returns. Memory stays small whatever the base's size.
import { newSha256 } from '../hash.js';
import { StateOverlayError, ioError } from '../errors.js';
import { hashRange } from '../native/syscalls.js';
import { displayPath, type BaseView, type RelPath } from '../model/entry.js';
import { comparePaths } from '../model/order.js';
import { MAX_RECORD, checkDigest, comparePathAt, decodeRecord, decodeTable, recordPath, type ManifestEntry, type ManifestLayout } from './format.js';
import { listedOnce, notTheGeneration, openManifest, readAt, readLayout, readManifest, viewOf, type ManifestFile } from './store.js';

/** Entries in a range: a few KiB of records read at once. */
const RANGE = 32;
/** Ranges kept, the last used, and ranges read at once (a range and those after it). */
const KEEP = 64;
const AHEAD = 8;
const CHUNK = 1 << 20;

/** A BaseView of a manifest file, open until closed. */
export interface ManifestLookup extends BaseView {
  /**
   * Settles once the manifest's digest is checked (and that every range's first record is where the
   * table says); rejects, naming the file, when it is not. Nothing read from the view counts before.
   */
  readonly checked: Promise<void>;
  close(): void;
}

/**
 * Opens a manifest for lookups by path. Its digest (sha256: the digest of the `manifest:` generation it
 * must be), which covers its table, is made first, then the first path of every range read: `checked`
 * rejects when either is wrong. A v1 manifest has no table: it is read whole into memory
 * and checked before this returns.
 */
export function openManifestView(file: string, opts: { sha256?: string } = {}): ManifestLookup {
  const f = openManifest(file);
  try {
    const layout = readLayout(f, file);
    if (layout.digest !== undefined) {
      if (opts.sha256 !== undefined && layout.digest !== opts.sha256) throw notTheGeneration(file, opts.sha256);
      const records = new Records(f, file, decodeTable(readAt(f, layout.recordsEnd, layout.count * 4), layout, file), layout.recordsEnd);
      // Hashed here, before any lookup: a digest made on the thread pool while a reconcile's main thread
      // went on hung the fault-injection sweep of a reconcile once in six full runs.
      const { digest, firsts, misplaced } = hashTakingFirsts(f, layout, records);
      // Damage is named as such: the digest first, then a record not where the table says.
      const checked = (async () => {
        checkDigest(layout, digest, file);
        if (misplaced) throw misplaced;
      })();
      // Awaited by whoever uses the view: a failure before that is not an unhandled rejection meanwhile.
      checked.catch(() => undefined);
      return new TableView(records, firsts, checked);
    }
  } catch (err) {
    f.close();
    throw err;
  }
  f.close();
  return { ...viewOf(listedOnce(file, readManifest(file, opts))), checked: Promise.resolve(), close: () => undefined };
}

/** hashRange over the bytes a digest covers; a refusal to start (no fd left for its dup) names the file. */
export function checkedRange(f: ManifestFile, length: number, file: string): Promise<Buffer> {
  try {
    return hashRange(f.fd, 0, length);
  } catch (err) {
    throw ioError('read manifest', file, err);
  }
}

/**
 * The digest of the bytes [0, digestAt) and the first path of every range, both from one read of the file
 * in chunks; a record that is not where the table says is kept for `checked`.
 */
function hashTakingFirsts(f: ManifestFile, layout: ManifestLayout, records: Records): { digest: string; firsts: RelPath[]; misplaced?: Error } {
  const hash = newSha256();
  const firsts: RelPath[] = [];
  let misplaced: Error | undefined;
  const to = layout.digestAt!;
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, to));
  for (let at = 0, n; at < to; at += n) {
    n = f.read(buf, 0, Math.min(buf.length, to - at), at);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    // The ranges whose first record ends in this chunk; one that starts in the chunk before is read again.
    for (let i = firsts.length * RANGE; i < records.count && records.end(i) <= at + n; i = firsts.length * RANGE) {
      const start = records.start(i);
      const [bytes, off] = start >= at ? [buf, start - at] : [readAt(f, start, records.end(i) - start), 0];
      try {
        firsts.push(records.pathIn(bytes, off, i));
      } catch (err) {
        misplaced ??= err as Error;
        firsts.push('' as RelPath);
      }
    }
  }
  const digest = hash.digest('hex');
  return misplaced === undefined ? { digest, firsts } : { digest, firsts, misplaced };
}

/** The entry records of a v2 manifest, where its table says they are, read a range at a time. */
class Records {
  private readonly ranges = new Map<number, Buffer>();
  private newest = -1;

  constructor(
    private readonly f: ManifestFile,
    readonly file: string,
    private readonly table: Uint32Array,
    private readonly recordsEnd: number,
  ) {}

  get count(): number {
    return this.table.length;
  }

  start(i: number): number {
    return this.table[i]!;
  }

  /** Where entry i's record ends: where the next one starts. */
  end(i: number): number {
    return i + 1 < this.table.length ? this.table[i + 1]! : this.recordsEnd;
  }

  path(i: number): RelPath {
    const [buf, off] = this.record(i);
    return this.pathIn(buf, off, i);
  }

  /** comparePaths(path(i), p), from the record's bytes. */
  compare(i: number, p: RelPath): number {
    const [buf, off] = this.record(i);
    const len = this.checkedLength(buf, off, i);
    return comparePathAt(buf, off, len, p) ?? comparePaths(this.entry(i).path, p);
  }

  entry(i: number): ManifestEntry {
    const [buf, off] = this.record(i);
    return decodeRecord(buf, off, this.file, this.start(i) - off)!.record.entry;
  }

  /** The path of entry i, whose record is at byte `off` of buf: it must fill the space the table gives it. */
  pathIn(buf: Buffer, off: number, i: number): RelPath {
    return recordPath(buf, off, this.checkedLength(buf, off, i)) ?? this.entry(i).path;
  }

  /** The length of entry i's record at byte `off` of buf: it must fill the space the table gives it. */
  private checkedLength(buf: Buffer, off: number, i: number): number {
    const len = this.end(i) - this.start(i);
    if (buf.length - off < len || buf.readUInt32LE(off) !== len - 4 || len - 4 > MAX_RECORD) {
      throw new StateOverlayError('corrupt', `${this.file}: table: entry ${i}: the record at byte ${this.start(i)} does not end at byte ${this.end(i)}, where the next one starts`, { path: this.file });
    }
    return len;
  }

  close(): void {
    this.f.close();
  }

  /** Entry i's range (kept, the last used) and the record's offset in it. */
  private record(i: number): [Buffer, number] {
    const r = Math.floor(i / RANGE);
    let buf = this.ranges.get(r);
    if (buf === undefined) {
      // The ranges after it come in the same read: lookups mostly come in the walk's order.
      const last = Math.min(r + AHEAD, Math.ceil(this.table.length / RANGE)) - 1;
      const from = this.start(r * RANGE);
      const bytes = readAt(this.f, from, this.end(Math.min((last + 1) * RANGE, this.table.length) - 1) - from);
      for (let k = last; k > r; k--) {
        if (this.ranges.has(k)) continue;
        if (this.ranges.size >= KEEP) this.ranges.delete(this.ranges.keys().next().value!);
        const at = this.start(k * RANGE) - from;
        this.ranges.set(k, bytes.subarray(at, this.end(Math.min((k + 1) * RANGE, this.table.length) - 1) - from));
      }
      buf = bytes.subarray(0, this.end(Math.min((r + 1) * RANGE, this.table.length) - 1) - from);
      if (this.ranges.size >= KEEP) this.ranges.delete(this.ranges.keys().next().value!);
    } else if (r !== this.newest) {
      this.ranges.delete(r);
    }
    // In the order last used: the first one is the one to drop.
    if (r !== this.newest) this.ranges.set(r, buf);
    this.newest = r;
    return [buf, this.start(i) - this.start(r * RANGE)];
  }
}

class TableView implements ManifestLookup {
  constructor(
    private readonly records: Records,
    /** The path of the first entry of every range. */
    private readonly firsts: readonly RelPath[],
    readonly checked: Promise<void>,
  ) {}

  get(p: RelPath): ManifestEntry | undefined {
    const i = this.lowerBound(p);
    if (i === this.records.count) return undefined;
    this.checkOrder(i);
    return this.pathAt(i) === p ? this.records.entry(i) : undefined;
  }

  /** The entries below dir: in the walk's order, the run of paths that start with `dir/`. */
  *under(dir: RelPath): Generator<ManifestEntry> {
    const prefix = dir === '' ? '' : `${dir}/`;
    for (let i = this.lowerBound(prefix as RelPath); i < this.records.count && this.pathAt(i).startsWith(prefix); i++) {
      this.checkOrder(i);
      yield this.records.entry(i);
    }
  }

  close(): void {
    this.records.close();
  }

  /** The first entry whose path is not before p (count: none): the range by its first path, then in it. */
  private lowerBound(p: RelPath): number {
    let lo = 0;
    let hi = this.firsts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePaths(this.firsts[mid]!, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    // Entry (lo - 1) * RANGE is before p; entry lo * RANGE (if any) is not.
    hi = Math.min(lo * RANGE, this.records.count);
    lo = (lo - 1) * RANGE + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records.compare(mid, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private pathAt(i: number): RelPath {
    return i % RANGE === 0 ? this.firsts[i / RANGE]! : this.records.path(i);
  }

  /**
   * Refuses a table out of order where it is read: the entry a search lands on (or read below a dir)
   * must come before the next one. A search lands on the first of a path listed twice, so that is
   * always caught here.
   */
  private checkOrder(i: number): void {
    if (i + 1 === this.records.count) return;
    const [a, b] = [this.pathAt(i), this.pathAt(i + 1)];
    const file = this.records.file;
    if (a === b) throw new StateOverlayError('corrupt', `${file}: ${JSON.stringify(displayPath(a))} is listed twice`, { path: file });
    if (comparePaths(a, b) > 0) {
      throw new StateOverlayError('corrupt', `${file}: table: entry ${i + 1} (${JSON.stringify(displayPath(b))}) sorts before entry ${i} (${JSON.stringify(displayPath(a))})`, { path: file });
    }
  }
}
