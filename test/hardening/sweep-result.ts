// What the fault-injection sweep compares: the result of a command (upper, backup sets, state, manifests),
// the entries of the original upper with every attribute, and the root outside the overlay's own dirs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseManifest } from '../../src/manifest/format.js';
import type { Layout } from '../../src/paths/layout.js';
import { scratchOverlay, snapshot, snapshotFull, sorted } from '../ops/scratch.js';

/** A tree generation names the base's inodes: each copy of the root has its own. */
const generic = (s: string) => s.replace(/tree:[0-9a-f]{64}/g, 'tree:*');

/**
 * snapshotFull without what a run makes its own: the mtime of a directory or of an entry it created
 * (newer than `since`, in µs), and the uuid a mount gives the upper.
 */
function tree(dir: string, since: number): Array<[string, string]> {
  return sorted(snapshotFull(dir)).map(([p, d]) => {
    const m = / mtime=(\d+)/.exec(d);
    const own = d.startsWith('dir ') || (m !== null && Number(m[1]) > since);
    return [p, (own ? d.replace(/ mtime=\d+/, '') : d).replace(/trusted\.overlay\.uuid=[0-9a-f]+/, 'trusted.overlay.uuid=*')];
  });
}

/** A manifest's entries, without the stamps (inode, ctime) that differ in every copy of the root. */
const entriesOf = (file: string) => crypto.createHash('sha256').update(JSON.stringify(parseManifest(fs.readFileSync(file), file))).digest('hex');

/** The state file without what names the run (its time, its set's stamp). */
function stateOf(layout: Layout): unknown {
  if (!fs.existsSync(layout.stateFile)) return null;
  const s = JSON.parse(fs.readFileSync(layout.stateFile, 'utf8')) as { lastReconcile: Record<string, unknown> | null };
  if (s.lastReconcile === null) return s;
  const { at: _at, ms: _ms, backupSet, ...last } = s.lastReconcile;
  return { ...s, lastReconcile: { ...last, backupSet: typeof backupSet === 'string' ? backupSet.replace(/^\d{8}T\d{9}Z-/, '') : backupSet } };
}

/**
 * The result of a command on root: the upper and every backup set that holds entries (in name order:
 * their names carry the time), the index of each, state.json, the manifests, and anything left over.
 */
export function resultOf(root: string, since: number) {
  const { layout } = scratchOverlay(root).ov;
  const sets = fs.existsSync(layout.backupsDir) ? fs.readdirSync(layout.backupsDir).sort() : [];
  const held = sets.filter((s) => snapshot(path.join(layout.backupsDir, s, 'upper')).size > 0);
  // A writer's temp (a cut mid-write) is a leftover, below: not a manifest to read.
  const manifests = fs.existsSync(layout.manifestsDir) ? fs.readdirSync(layout.manifestsDir).filter((m) => !/\.tmp-\d+$/.test(m)).sort() : [];
  return {
    upper: tree(layout.upper, since),
    sets: held.map((s) => ({
      tree: tree(path.join(layout.backupsDir, s, 'upper'), since),
      index: generic(JSON.stringify((JSON.parse(fs.readFileSync(path.join(layout.backupsDir, s, 'index.json'), 'utf8')) as { entries: Array<{ display: string; kind: string; rule: number }> }).entries.map((e) => `${e.kind} ${e.rule} ${e.display}`))),
    })),
    state: generic(JSON.stringify(stateOf(layout))),
    manifests: manifests.map((m) => generic(`${m} ${entriesOf(path.join(layout.manifestsDir, m))}`)),
    journal: fs.existsSync(layout.journal),
    leftovers: [...snapshot(layout.stateDir).keys()].filter((p) => /\.tmp-|\.state-overlay-/.test(p)),
  };
}

/**
 * Entries of the original upper (snapshotFull) that are nowhere with every attribute: at their path in
 * the upper (or moved aside as .rpmsave) or in a backup set. Hard links are checked by convergence.
 */
export function lostWhole(original: Map<string, string>, layout: Layout): string[] {
  const strip = (d: string | undefined) => d?.replace(/ link=.*$/, '');
  const upper = snapshotFull(layout.upper);
  const sets = fs.existsSync(layout.backupsDir) ? fs.readdirSync(layout.backupsDir).map((s) => snapshotFull(path.join(layout.backupsDir, s, 'upper'))) : [];
  const lost: string[] = [];
  for (const [p, d] of original) {
    if (d.startsWith('dir ') || p === '') continue;
    const want = strip(d);
    if ([upper.get(p), upper.get(`${p}.rpmsave`), ...sets.map((s) => s.get(p))].some((x) => strip(x) === want)) continue;
    lost.push(JSON.stringify(p));
  }
  return lost;
}

/** The root outside the overlay's state and run dirs and their parents, and the base with every attribute. */
export function outsideOf(root: string): { rest: Array<[string, string]>; base: Array<[string, string]> } {
  const { layout, base } = scratchOverlay(root).ov;
  const own = [layout.stateDir, layout.runDir, base].map((d) => path.relative(root, d));
  const parents = new Set(own.flatMap((d) => d.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))));
  const mine = (p: string) => parents.has(p) || own.some((d) => p === d || p.startsWith(`${d}/`));
  return { rest: sorted(snapshot(root)).filter(([p]) => !mine(p)), base: sorted(snapshotFull(base)) };
}
