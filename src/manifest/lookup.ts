// Lookups by path in a manifest file without decoding it: a v2 manifest's table binary-searched, only
// the records asked for decoded, the file read by the block (the records near one looked up are the
// next ones asked for: lookups come in walk order too). Memory stays bounded whatever the base's size.
import crypto from 'node:crypto';
import { StateOverlayError } from '../errors.js';
import { displayPath, type BaseView, type RelPath } from '../model/entry.js';
import { comparePaths } from '../model/order.js';
import { MAX_RECORD, checkDigest, decodeRecord, decodeTable, recordPath, type ManifestEntry } from './format.js';
import { hashRange, listedOnce, notTheGeneration, openManifest, readAt, readLayout, readManifest, viewOf, type ManifestFile } from './store.js';

const BLOCK = 1 << 16;
/** Blocks kept (the last used): 2 MiB, against a file of any size. */
const KEEP = 32;

/** A BaseView of a manifest file, open until closed. */
export interface ManifestLookup extends BaseView {
  close(): void;
}

/**
 * Opens a manifest for lookups by path. Its digest is checked first (sha256: the digest of the
 * `manifest:` generation it must be), which covers its table. A v1 manifest has no table: it is read
 * whole into memory.
 */
export function openManifestView(file: string, opts: { sha256?: string } = {}): ManifestLookup {
  const f = openManifest(file);
  let layout;
  try {
    layout = readLayout(f, file);
    if (layout.digest !== undefined) {
      if (opts.sha256 !== undefined && layout.digest !== opts.sha256) throw notTheGeneration(file, opts.sha256);
      const hash = crypto.createHash('sha256');
      hashRange(f, hash, 0, layout.digestAt!);
      checkDigest(layout, hash, file);
      return new TableView(f, file, decodeTable(readAt(f, layout.recordsEnd, layout.count * 4), layout, file), layout.recordsEnd);
    }
  } catch (err) {
    f.close();
    throw err;
  }
  f.close();
  return { ...viewOf(listedOnce(file, readManifest(file, opts))), close: () => undefined };
}

class TableView implements ManifestLookup {
  private readonly blocks = new Map<number, Buffer>();

  constructor(
    private readonly f: ManifestFile,
    private readonly file: string,
    private readonly table: Uint32Array,
    private readonly recordsEnd: number,
  ) {}

  get(p: RelPath): ManifestEntry | undefined {
    const i = this.lowerBound(p);
    if (i === this.table.length) return undefined;
    this.checkOrder(i);
    return this.pathAt(i) === p ? this.entryAt(i) : undefined;
  }

  /** The entries below dir: in the walk's order, the run of paths that start with `dir/`. */
  *under(dir: RelPath): Generator<ManifestEntry> {
    const prefix = dir === '' ? '' : `${dir}/`;
    for (let i = this.lowerBound(prefix as RelPath); i < this.table.length && this.pathAt(i).startsWith(prefix); i++) {
      this.checkOrder(i);
      yield this.entryAt(i);
    }
  }

  close(): void {
    this.f.close();
  }

  /** The first entry whose path is not before p (table.length: none). */
  private lowerBound(p: RelPath): number {
    let lo = 0;
    let hi = this.table.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePaths(this.pathAt(mid), p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Refuses a table out of order where it is read: the entry a search lands on (or read below a dir)
   * must come before the next one. A search lands on the first of a path listed twice, so that is
   * always caught here.
   */
  private checkOrder(i: number): void {
    if (i + 1 === this.table.length) return;
    const [a, b] = [this.pathAt(i), this.pathAt(i + 1)];
    if (a === b) throw new StateOverlayError('corrupt', `${this.file}: ${JSON.stringify(displayPath(a))} is listed twice`, { path: this.file });
    if (comparePaths(a, b) > 0) {
      throw new StateOverlayError('corrupt', `${this.file}: table: entry ${i + 1} (${JSON.stringify(displayPath(b))}) sorts before entry ${i} (${JSON.stringify(displayPath(a))})`, { path: this.file });
    }
  }

  private pathAt(i: number): RelPath {
    const [buf, at] = this.record(i);
    return recordPath(buf, 0, this.file, at);
  }

  private entryAt(i: number): ManifestEntry {
    const [buf, at] = this.record(i);
    return decodeRecord(buf, 0, this.file, at)!.record.entry;
  }

  /** The bytes of entry i's record, which must end where the next entry's starts. */
  private record(i: number): [Buffer, number] {
    const at = this.table[i]!;
    const end = i + 1 < this.table.length ? this.table[i + 1]! : this.recordsEnd;
    const head = this.bytes(at, 4);
    if (head.length < 4 || head.readUInt32LE(0) !== end - at - 4 || end - at - 4 > MAX_RECORD) {
      throw new StateOverlayError('corrupt', `${this.file}: table: entry ${i}: the record at byte ${at} does not end at byte ${end}, where the next one starts`, { path: this.file });
    }
    return [this.bytes(at, end - at), at];
  }

  /** The bytes [at, at + len) of the file, from the blocks kept where they lie in one. */
  private bytes(at: number, len: number): Buffer {
    const n = Math.floor(at / BLOCK);
    if (Math.floor((at + len - 1) / BLOCK) !== n) return readAt(this.f, at, len);
    let block = this.blocks.get(n);
    if (block === undefined) {
      block = readAt(this.f, n * BLOCK, BLOCK);
      if (this.blocks.size === KEEP) this.blocks.delete(this.blocks.keys().next().value!);
    } else {
      this.blocks.delete(n);
    }
    this.blocks.set(n, block);
    return block.subarray(at - n * BLOCK, at - n * BLOCK + len);
  }
}
