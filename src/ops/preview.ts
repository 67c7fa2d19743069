// `preview`: the plan the next boot will apply to the upper when the new base is the one given (a staged
// image's tree, its shipped manifest, an image root holding either, or ostree's staged deployment), observed and planned exactly as
// `reconcile --dry-run` would then, against the generation recorded now. Read-only, and the overlay may
// stay mounted: nothing is locked, written or moved.
import fs from 'node:fs';
import path from 'node:path';
import { StateOverlayError } from '../errors.js';
import { distrust } from '../observe/base-check.js';
import { manifestGeneration, treeWalk } from '../observe/generation.js';
import { observe } from '../observe/inputs.js';
import { stagedDeployment } from '../observe/ostree.js';
import { classesOfGenerations } from '../observe/package-db.js';
import type { Overlay } from '../overlay/overlay.js';
import { SHIP_DIR, underRoot } from '../paths/layout.js';
import { namesBeside } from '../plan/suffix.js';
import { summarize } from '../plan/summary.js';
import { ROLLBACK_RULE } from '../model/rule.js';
import type { Plan } from '../plan/types.js';
import { readState, stateManifestFile } from '../state/state-file.js';
import { mergesOf, planChange, type ReconcileReport } from './reconcile.js';

/** Where the next base is: its tree, its shipped manifest, an image root holding the overlay's base, or ostree's staged deployment. */
export type PreviewTarget = { readonly base: string } | { readonly manifest: string } | { readonly imageRoot: string } | { readonly ostreeStaged: true };

export interface PreviewReport extends ReconcileReport {
  /** What the next base was read from. */
  readonly source: { readonly base: string | null; readonly manifest: string | null };
  /** What the plan does to the host's changes, in a line. */
  readonly headline: string;
  /** Why the next boot would refuse this base as it is (observe/base-check.ts), without --force; null: it would not. */
  readonly refused: string | null;
}

interface NextBase {
  readonly base: string | null;
  readonly manifest: string | null;
  readonly generation: string;
  /** Where ConfigFrom= reads the package databases of the next image when its manifest records no classes. */
  readonly packageRoot: string | null;
  /** Entries of the tree, where its generation walk counted them. */
  readonly entries?: number;
}

function isDir(p: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StateOverlayError('usage', code === 'ENOENT' ? `${what} ${p} does not exist` : `${what} ${p}: ${code ?? String(err)}`, { path: p });
  }
  if (!st.isDirectory()) throw new StateOverlayError('usage', `${what} ${p} is not a directory`, { path: p });
}

function nextBase(ov: Overlay, t: PreviewTarget): NextBase {
  if ('base' in t) {
    isDir(t.base, '--base');
    return { base: t.base, manifest: null, ...treeWalk(t.base), packageRoot: null };
  }
  if ('manifest' in t) {
    if (!fs.existsSync(t.manifest)) throw new StateOverlayError('usage', `--manifest ${t.manifest} does not exist`, { path: t.manifest });
    return { base: null, manifest: t.manifest, generation: manifestGeneration(t.manifest), packageRoot: null };
  }
  if ('imageRoot' in t) {
    isDir(t.imageRoot, '--image-root');
    return imageBase(ov, t.imageRoot);
  }
  // The staged deployment is the image the next boot runs: its root is an image root.
  const staged = stagedDeployment(ov.layout.root);
  return imageBase(ov, staged.root, staged.checksum);
}

/** The next base in an image root; ostree: the commit of a staged deployment, the generation that boot records without a shipped manifest. */
function imageBase(ov: Overlay, imageRoot: string, ostree?: string): NextBase {
  const base = underRoot(imageRoot, ov.config.base ?? ov.config.path);
  isDir(base, `the image's base`);
  const shipped = underRoot(imageRoot, path.posix.join(SHIP_DIR, `${ov.name}.manifest`));
  const kind = ov.config.generation.kind;
  // As the booted image decides (Generation=auto): its shipped manifest when it has one, else the ostree commit it boots, else its tree.
  const useManifest = kind !== 'tree' && fs.existsSync(shipped);
  const generation = useManifest ? { generation: manifestGeneration(shipped) } : ostree !== undefined && (kind === 'auto' || kind === 'ostree') ? { generation: `ostree:${ostree}` } : treeWalk(base);
  return { base, manifest: useManifest ? shipped : null, ...generation, packageRoot: imageRoot };
}

/** Counts of what the plan does to the host's changes, as an operator reads them before a reboot. */
export function headline(plan: Plan): string {
  const n = (pred: (a: Plan['actions'][number]) => boolean) => plan.actions.filter(pred).length;
  // A rollback's moves are of the sidecars a reconcile wrote, not of the host's changes.
  const dropped = n((a) => a.kind === 'move-to-backups' && a.rule !== 1 && a.rule !== ROLLBACK_RULE);
  const redundant = n((a) => a.kind === 'move-to-backups' && a.rule === 1);
  const sidecars = n((a) => a.kind === 'write-sidecar');
  const aside = n((a) => a.kind === 'rename' && a.rule !== ROLLBACK_RULE);
  const restored = n((a) => a.kind === 'restore-from-backups');
  const merged = n((a) => a.kind === 'merge');
  const parts = [
    dropped > 0 ? `${dropped} local ${dropped === 1 ? 'change' : 'changes'} will be dropped to backups` : '',
    aside > 0 ? `${aside} config ${aside === 1 ? 'file' : 'files'} moved aside (.rpmsave/.dpkg-old)` : '',
    sidecars > 0 ? `${sidecars} config ${sidecars === 1 ? 'file gets' : 'files get'} the new version beside it (.rpmnew/.dpkg-dist)` : '',
    merged > 0 ? `${merged} ${merged === 1 ? 'file is' : 'files are'} merged with the new base (the host's version to backups)` : '',
    restored > 0 ? `${restored} ${restored === 1 ? 'entry comes' : 'entries come'} back from backup set ${plan.rollbackSet ?? ''} (rollback)` : '',
    redundant > 0 ? `${redundant} redundant ${redundant === 1 ? 'copy' : 'copies'} of the base removed` : '',
    plan.conflicts.length > 0 ? `${plan.conflicts.length} ${plan.conflicts.length === 1 ? 'warning' : 'warnings'}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'no local change is dropped, moved aside or given a sidecar' : parts.join(', ');
}

/** What `--fail-on` can name: the outcomes an update pipeline may want to stop on. */
export const FAIL_ON = ['drop', 'sidecar', 'aside', 'conflict'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** The outcomes of `fail` the plan has. */
export function failures(plan: Plan, fail: readonly FailOn[]): FailOn[] {
  const has: Record<FailOn, boolean> = {
    drop: plan.actions.some((a) => a.kind === 'move-to-backups' && a.rule !== 1 && a.rule !== ROLLBACK_RULE),
    sidecar: plan.actions.some((a) => a.kind === 'write-sidecar'),
    aside: plan.actions.some((a) => a.kind === 'rename'),
    conflict: plan.conflicts.length > 0,
  };
  return fail.filter((f) => has[f]);
}

/** The plan of a reconcile from the recorded generation to the next base, read-only. */
export async function previewOverlay(ov: Overlay, target: PreviewTarget): Promise<PreviewReport> {
  const { config, layout } = ov;
  const started = Date.now();
  const next = nextBase(ov, target);
  const state = readState(layout);
  const from = state?.generation ?? null;
  const recorded = stateManifestFile(layout, state);
  const meta = { from, to: next.generation, mode: config.reconcile, backupSet: null, ms: 0 };
  const source = { base: next.base, manifest: next.manifest };
  const refused = next.base === null ? null : (distrust({ base: next.base, recorded, shipped: next.manifest ?? undefined, entries: next.entries }) ?? null);
  const report = (plan: Plan, upToDate: boolean): PreviewReport => ({
    ...summarize(plan, { ...meta, ms: Date.now() - started }),
    plan,
    upToDate,
    dryRun: true,
    resumed: false,
    source,
    refused,
    headline: upToDate ? 'the next base is the generation already reconciled: nothing changes' : headline(plan),
  });
  if (from === next.generation || config.reconcile === 'none') return report({ actions: [], conflicts: [] }, true);
  const b0Manifest = recorded !== null && fs.existsSync(recorded) ? recorded : null;
  const { classes } = await classesOfGenerations({ b0Manifest, current: next.manifest, root: next.packageRoot ?? layout.root, mountpoint: config.path, from: config.paths.configFrom });
  const inputs = await observe({
    upper: layout.upper,
    base: next.base,
    b0Manifest,
    current: next.manifest === null ? null : { file: next.manifest, sha256: next.generation.slice('manifest:'.length) },
    subtrees: config.reconcile === 'changed',
    besides: namesBeside(config, classes),
  });
  const merges = config.reconcile === 'changed' ? mergesOf(ov, inputs, classes, next.base) : undefined;
  return report(planChange(ov, { ...inputs, ...(classes ? { classes } : {}), ...(merges ? { merges: merges.views, follow: merges.follow } : {}) }, { from, to: next.generation }), false);
}
