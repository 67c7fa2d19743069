// RelPaths in tests: components written as binary strings ('\xff' is the byte 0xff) or as raw bytes, joined by '/'.
import { fromBytes, relPath, type RelPath } from '../../src/model/entry.js';

export const rel = (...parts: (string | Buffer)[]): RelPath => relPath(parts.map((p) => (typeof p === 'string' ? p : fromBytes(p))).join('/'));
