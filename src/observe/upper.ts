// Reads and classifies a whole upper dir against a live base, noting which entries sit directly over
// the base (not below a directory that hides it).
import fs from 'node:fs';
import { isUnder, type RelPath, type UpperEntry } from '../model/entry.js';
import { readUpper } from './classify.js';
import { entryType, lstatBeneath } from '../tree/fsat.js';

export function classifyUpper(
  upper: string,
  baseDir: string,
  onError: (path: RelPath, err: Error) => void,
): { entries: UpperEntry[]; top: Set<RelPath> } {
  const entries: UpperEntry[] = [];
  const top = new Set<RelPath>();
  if (!fs.existsSync(upper)) return { entries, top };
  const baseType = (p: RelPath) => {
    const st = lstatBeneath(baseDir, p);
    return st === undefined ? undefined : entryType(st);
  };
  let hidden: RelPath | undefined;
  for (const e of readUpper(upper, baseType, { onError })) {
    entries.push(e);
    if (hidden !== undefined && isUnder(e.path, hidden)) continue;
    hidden = undefined;
    top.add(e.path);
    if (e.type === 'dir' && e.kind !== 'merged-dir') hidden = e.path;
  }
  return { entries, top };
}
