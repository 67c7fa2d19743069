// Writes manifests (format.ts, version 2): the header and class records, one record per entry in walk
// order with its offset kept for the table, then the table and the trailer, all hashed on the way.
import os from 'node:os';
import { newSha256 } from '../hash.js';
import { StateOverlayError } from '../errors.js';
import { displayPath, type RelPath } from '../model/entry.js';
import { comparePaths } from '../model/order.js';
import type { PackageClasses } from '../model/package-class.js';
import { encodeClasses } from './classes.js';
import { MAGIC, NO_STAMP, TABLE_ENTRY, TRAILER_SIZE, V2_HEADER, VERSION, encodeEntry, type ManifestEntry, type ManifestRecord, type Stamp } from './format.js';

/** Offsets in the table are u32: a manifest's records end before 4 GiB (about 30 million entries). */
const MAX_OFFSET = 0xffffffff;

/** What the bytes of a manifest are fed to, in file order: their sha256 is the manifest's last 32 bytes. */
export interface DigestFeed {
  update(b: Buffer): void;
}

/** The records (and class records) of a manifest, written as buffers in file order. */
export class ManifestEncoder {
  private table = new Uint32Array(1024);
  private count = 0;
  private at = 0;
  private last: RelPath | undefined;

  constructor(private readonly hash: DigestFeed) {}

  /** The header and the package class records. */
  head(classes?: PackageClasses): Buffer {
    const h = Buffer.alloc(V2_HEADER);
    MAGIC.copy(h, 0);
    h.writeUInt8(VERSION, 4);
    return this.out(Buffer.concat([h, ...(classes ? encodeClasses(classes) : [])]));
  }

  /** One entry's record: entries come in walk order (comparePaths), as the table lists them. */
  entry(entry: ManifestEntry, stamp: Stamp = NO_STAMP): Buffer {
    if (this.at > MAX_OFFSET) throw new StateOverlayError('unsupported', `a manifest of more than 4 GiB of records (${this.count} entries): not supported`);
    // The table is searched in this order: what would break a search is never written.
    if (this.last !== undefined && comparePaths(this.last, entry.path) >= 0) {
      throw new StateOverlayError('internal', `manifest entries out of order: ${JSON.stringify(displayPath(entry.path))} after ${JSON.stringify(displayPath(this.last))}`);
    }
    this.last = entry.path;
    if (this.count === this.table.length) this.grow();
    this.table[this.count++] = this.at;
    return this.out(encodeEntry(entry, stamp));
  }

  /**
   * Whole records made elsewhere (native indexWalk), in walk order after every entry so far, with the
   * offset of each in b: they join the table. Their order and fields are the walk's to keep (it sorts
   * names as comparePaths does).
   */
  records(b: Buffer, offsets: Uint32Array): Buffer {
    const last = offsets.length === 0 ? 0 : offsets[offsets.length - 1]!;
    if (this.at + last > MAX_OFFSET) throw new StateOverlayError('unsupported', `a manifest of more than 4 GiB of records (${this.count + offsets.length} entries): not supported`);
    while (this.count + offsets.length > this.table.length) this.grow();
    for (let i = 0; i < offsets.length; i++) this.table[this.count + i] = this.at + offsets[i]!;
    this.count += offsets.length;
    this.last = undefined;
    return this.out(b);
  }

  /** The table and the trailer: the last bytes of the file but the digest of them all (the feed's). */
  end(): Buffer {
    // The table's u32s as they are in memory: little-endian in the file.
    const mine = Buffer.from(this.table.buffer, 0, this.count * TABLE_ENTRY);
    const table = os.endianness() === 'BE' ? Buffer.from(mine).swap32() : mine;
    const trailer = Buffer.alloc(TRAILER_SIZE - 32);
    trailer.writeBigUInt64LE(BigInt(this.count), 0);
    trailer.writeBigUInt64LE(BigInt(this.at), 8);
    this.out(table);
    this.out(trailer);
    return Buffer.concat([table, trailer]);
  }

  get entries(): number {
    return this.count;
  }

  private grow(): void {
    const bigger = new Uint32Array(this.table.length * 2);
    bigger.set(this.table);
    this.table = bigger;
  }

  private out(b: Buffer): Buffer {
    this.hash.update(b);
    this.at += b.length;
    return b;
  }
}

/** A whole v2 manifest in memory (tests, and manifests made from others). */
export function encodeManifest(records: Iterable<ManifestEntry | ManifestRecord>, classes?: PackageClasses): Buffer {
  const hash = newSha256();
  const enc = new ManifestEncoder(hash);
  const out = [enc.head(classes)];
  for (const r of records) out.push('entry' in r ? enc.entry(r.entry, r.stamp) : enc.entry(r));
  out.push(enc.end(), hash.digest());
  return Buffer.concat(out);
}
