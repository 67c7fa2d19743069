// Version 1 manifests, as releases before the table wrote them: a 16-byte header counting the entries,
// then the records. They stay readable.
import { MAGIC, encodeEntry, type ManifestEntry } from '../../src/manifest/format.js';

export function v1Header(count: number): Buffer {
  const b = Buffer.alloc(16);
  MAGIC.copy(b, 0);
  b.writeUInt8(1, 4);
  b.writeBigUInt64LE(BigInt(count), 8);
  return b;
}

export const v1Bytes = (entries: readonly ManifestEntry[]): Buffer => Buffer.concat([v1Header(entries.length), ...entries.map((e) => encodeEntry(e))]);
