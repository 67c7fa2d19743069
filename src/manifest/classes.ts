// Package classes in a manifest: records of their own type, written after the header and before the
// first entry record, not counted in the header's entry count. A manifest without them predates classes.
//
// databases record: u32 length (2) | u8 type 0x81 | u8 databases read (bit 0 dpkg, bit 1 rpm)
// class record:     u32 length | u8 type 0x80 | u8 flags | u8 package name length | package name | path bytes
//   flags: 1 config, 2 noreplace, 4 missingok, 8 ghost, 16 obsolete, 32 from rpm (else dpkg)
import { StateOverlayError } from '../errors.js';
import { displayPath, fromBytes, isEntryPath, type RelPath } from '../model/entry.js';
import { PACKAGE_DBS, mergeClass, type PackageClass, type PackageClasses, type PackageDb } from '../model/package-class.js';

export const CLASS_RECORD = 0x80;
export const DBS_RECORD = 0x81;

const FLAG = { config: 1, noreplace: 2, missingok: 4, ghost: 8, obsolete: 16, rpm: 32 } as const;
const MAX_CLASS_RECORD = 3 + 255 + 65536;

export const isClassType = (t: number): boolean => t === CLASS_RECORD || t === DBS_RECORD;

/** The class records of one generation, databases record first, then paths in sorted order. */
export function encodeClasses(classes: PackageClasses): Buffer[] {
  if (classes.dbs === null) return [];
  const out: Buffer[] = [];
  const dbs = Buffer.alloc(6);
  dbs.writeUInt32LE(2, 0);
  dbs.writeUInt8(DBS_RECORD, 4);
  dbs.writeUInt8(classes.dbs.reduce((m, d) => m | (1 << PACKAGE_DBS.indexOf(d)), 0), 5);
  out.push(dbs);
  for (const p of [...classes.byPath.keys()].sort()) {
    const c = classes.byPath.get(p)!;
    const pkg = Buffer.from(c.pkg, 'utf8').subarray(0, 255);
    const b = Buffer.alloc(4 + 3 + pkg.length + p.length);
    let o = b.writeUInt32LE(b.length - 4, 0);
    o = b.writeUInt8(CLASS_RECORD, o);
    const flags = (c.config ? FLAG.config : 0) | (c.noreplace ? FLAG.noreplace : 0) | (c.missingok ? FLAG.missingok : 0) |
      (c.ghost ? FLAG.ghost : 0) | (c.obsolete ? FLAG.obsolete : 0) | (c.db === 'rpm' ? FLAG.rpm : 0);
    o = b.writeUInt8(flags, o);
    o = b.writeUInt8(pkg.length, o);
    o += pkg.copy(b, o);
    b.write(p, o, 'latin1');
    out.push(b);
  }
  return out;
}

export type ClassItem = { readonly dbs: readonly PackageDb[] } | { readonly path: RelPath; readonly cls: PackageClass };

/**
 * Decodes the class record at offset: null when the record there is an entry record, undefined when buf
 * ends before the record does. bufAt: the file offset of buf[0], for errors.
 */
export function decodeClassRecord(buf: Buffer, offset: number, file = 'manifest', bufAt = 0): { item: ClassItem; next: number } | null | undefined {
  if (buf.length - offset < 5) return undefined;
  const type = buf.readUInt8(offset + 4);
  if (!isClassType(type)) return null;
  const len = buf.readUInt32LE(offset);
  const bad = (what: string) => new StateOverlayError('corrupt', `${file}: record at byte ${bufAt + offset}: ${what}`, { path: file });
  if (len < 2 || len > MAX_CLASS_RECORD) throw bad(`length ${len} out of range`);
  if (buf.length - offset - 4 < len) return undefined;
  const next = offset + 4 + len;
  if (type === DBS_RECORD) {
    if (len !== 2) throw bad(`databases record of length ${len}, expected 2`);
    const mask = buf.readUInt8(offset + 5);
    if (mask >> PACKAGE_DBS.length !== 0) throw bad(`unknown databases 0x${mask.toString(16)}`);
    return { item: { dbs: PACKAGE_DBS.filter((_, i) => (mask & (1 << i)) !== 0) }, next };
  }
  const flags = buf.readUInt8(offset + 5);
  if (flags >> 6 !== 0) throw bad(`unknown class flags 0x${flags.toString(16)}`);
  const pkgLen = len < 3 ? -1 : buf.readUInt8(offset + 6);
  if (pkgLen < 0 || 3 + pkgLen >= len) throw bad('class record without a path');
  const pkg = buf.toString('utf8', offset + 7, offset + 7 + pkgLen);
  const path = fromBytes(buf, offset + 7 + pkgLen, next);
  if (!isEntryPath(path)) throw bad(`invalid path ${JSON.stringify(displayPath(path))}`);
  const cls: PackageClass = {
    db: (flags & FLAG.rpm) !== 0 ? 'rpm' : 'dpkg',
    pkg,
    config: (flags & FLAG.config) !== 0,
    noreplace: (flags & FLAG.noreplace) !== 0,
    missingok: (flags & FLAG.missingok) !== 0,
    ghost: (flags & FLAG.ghost) !== 0,
    obsolete: (flags & FLAG.obsolete) !== 0,
  };
  return { item: { path, cls }, next };
}

/** Collects decoded class items into the classes of a generation (select: only those paths). */
export class ClassCollector {
  private dbs: PackageDb[] | null = null;
  private readonly byPath = new Map<RelPath, PackageClass>();

  constructor(private readonly select?: (p: RelPath) => boolean) {}

  add(item: ClassItem): void {
    if ('dbs' in item) {
      this.dbs = [...item.dbs];
      return;
    }
    if (this.select && !this.select(item.path)) return;
    const had = this.byPath.get(item.path);
    this.byPath.set(item.path, had ? mergeClass(had, item.cls) : item.cls);
  }

  result(): PackageClasses {
    return { dbs: this.dbs, byPath: this.byPath };
  }
}
