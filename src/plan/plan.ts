// The pure reconcile planner: (B0, B1, upper, config) → ordered actions and conflicts, each with its rule.
import { NAME_MAX, TREE_ROOT, identical, isUnread, parentOf, sameAttrs, sameXattrs, type BaseView, type RelPath, type UpperEntry } from '../model/entry.js';
import { comparePaths } from '../model/order.js';
import { pathClassifier, type PathClass } from './classes.js';
import { subtreeUnchanged } from './change.js';
import { decide, decideAll, type Decision } from './rules.js';
import { PathSet } from './path-set.js';
import { freshName, origName, savedName } from './suffix.js';
import type { Action, Conflict, Plan, PlanInput, Rule } from './types.js';

class Sink {
  readonly actions: Action[] = [];
  readonly conflicts: Conflict[] = [];
}

function childrenIndex(upper: readonly UpperEntry[]): Map<RelPath, UpperEntry[]> {
  const byPath = new Set(upper.map((e) => e.path));
  const children = new Map<RelPath, UpperEntry[]>();
  for (const e of upper) {
    // An entry whose parent was not listed is attached to the nearest listed ancestor's level: the root.
    let parent = parentOf(e.path);
    while (parent !== '' && !byPath.has(parent)) parent = parentOf(parent);
    const list = children.get(parent);
    if (list) list.push(e);
    else children.set(parent, [e]);
  }
  for (const list of children.values()) list.sort((a, b) => comparePaths(a.path, b.path));
  return children;
}

/**
 * The order actions run in: moves first (they free sidecar names), then renames, restores (a rollback's:
 * into names the moves and renames freed), sidecars, attrs, rmdirs deepest first.
 */
const PHASE: Record<Action['kind'], number> = { 'move-to-backups': 0, rename: 1, 'restore-from-backups': 2, 'write-sidecar': 3, merge: 4, 'set-attrs': 5, 'remove-empty-dir': 6, keep: 7 };
export function order(a: Action, b: Action): number {
  const d = PHASE[a.kind] - PHASE[b.kind];
  if (d !== 0) return d;
  return a.kind === 'remove-empty-dir' ? comparePaths(b.path, a.path) : comparePaths(a.path, b.path);
}

export type Decider = (u: UpperEntry, cls: PathClass) => Decision;

/** The plan of Reconcile=changed|all|none for a generation change. */
export function planReconcile(input: PlanInput): Plan {
  const { config, b1 } = input;
  if (config.reconcile === 'none' || (input.b0 === null && config.unknownBase === 'keep' && config.reconcile === 'changed')) {
    return { actions: [], conflicts: [] };
  }
  const b0 = input.b0;
  const decider: Decider = (u, cls) => {
    if (config.reconcile === 'all') return decideAll(u, b1.get(u.path));
    return decide({
      u,
      b0: b0?.get(u.path),
      b1: b1.get(u.path),
      known: b0 !== null,
      cls: cls.cls,
      policy: cls.policy,
      missingok: cls.missingok === true,
      style: config.paths.suffixStyle,
      unknownBase: config.unknownBase,
      merge: input.merges?.get(u.path),
      subtreeUnchanged: () => (b0 === null ? false : subtreeUnchanged(b0, b1, u.path)),
    });
  };
  return planWith(input, decider);
}

/** `vacuum`: only copy-ups identical to the base go (rule 1), and the directories they leave empty (rule 8). */
export function planVacuum(input: Omit<PlanInput, 'b0'>): Plan {
  const { b1 } = input;
  const decider: Decider = (u) => {
    const b = b1.get(u.path);
    if (!b) return { do: 'state' };
    if (u.type === 'dir' && u.kind !== 'opaque-dir') return b.type === 'dir' ? { do: 'recurse', emptyRule: 8 } : { do: 'state' };
    if (u.kind !== 'whiteout' && u.kind !== 'foreign' && u.type !== 'dir' && identical(u, b)) {
      return { do: 'drop', rule: 1, reason: 'identical to the base (redundant copy-up)' };
    }
    return { do: 'state' };
  };
  return planWith({ ...input, b0: null }, decider);
}

function planWith(input: PlanInput, decider: Decider): Plan {
  const { config, b1 } = input;
  const classify = pathClassifier(config.path, config.paths, input.classes);
  const style = config.paths.suffixStyle;
  const children = childrenIndex(input.upper);
  const upperByPath = new Map(input.upper.map((e) => [e.path, e]));

  // The decision each Keep= record stands in for: a Keep= entry below another is judged by its own rule,
  // not by the record that the one below it made.
  const declared = new Map<Action, Pick<Action, 'rule' | 'reason'>>();

  /** Applies the decision for u into sink; true when something stays at u's path or beside it. */
  function* visit(u: UpperEntry, sink: Sink): Visit {
    const cls = classify(u.path);
    if (cls.keep !== undefined) {
      const natural = new Sink();
      yield* visit0(u, cls, natural);
      const first = natural.actions.find((a) => a.kind !== 'keep') ?? natural.actions[0];
      if (first) {
        const would = declared.get(first) ?? first;
        const record: Action = { kind: 'keep', path: u.path, rule: would.rule, reason: `${cls.keep}: declared state, left untouched (rule ${would.rule} would apply: ${would.reason})` };
        declared.set(record, { rule: would.rule, reason: would.reason });
        sink.actions.push(record);
      }
      return true;
    }
    return yield* visit0(u, cls, sink);
  }

  function* visit0(u: UpperEntry, cls: PathClass, sink: Sink): Visit {
    const follows = u.type === 'dir' || u.kind === 'foreign' ? undefined : input.follow?.get(u.path);
    const d: Decision = follows === undefined ? decider(u, cls) : { do: 'drop', rule: 3, reason: follows };
    const { path } = u;
    if ('notMerged' in d && d.notMerged !== undefined) sink.conflicts.push({ path, rule: d.rule, reason: `${d.notMerged}; ${d.reason}` });
    switch (d.do) {
      case 'state':
        return true;
      case 'conflict':
        sink.conflicts.push({ path, rule: d.rule, reason: d.reason });
        return true;
      case 'drop':
        sink.actions.push({ kind: 'move-to-backups', path, rule: d.rule, reason: d.reason, entry: { kind: u.kind, type: u.type } });
        if (d.warn) sink.conflicts.push({ path, rule: d.rule, reason: `${d.reason}: moved to backups` });
        return false;
      case 'save':
        sink.actions.push({ kind: 'rename', path, to: (d.as === 'orig' ? origName : savedName)(path, style), rule: d.rule, reason: d.reason });
        return true;
      case 'keep':
        if (d.sidecar) return keepWithSidecar(u, d.rule, d.reason, sink);
        sink.actions.push({ kind: 'keep', path, rule: d.rule, reason: d.reason });
        return true;
      case 'merge':
        for (const n of d.notes ?? []) sink.conflicts.push({ path, rule: d.rule, reason: `merged (${d.driver}), the host's change not kept: ${n}` });
        sink.actions.push({ kind: 'merge', path, rule: d.rule, reason: d.reason, driver: d.driver, digest: d.digest, host: d.host, entry: { kind: u.kind, type: 'file' } });
        return true;
      case 'recurse':
        return yield* recurse(u, d, sink);
    }
  }

  function keepWithSidecar(u: UpperEntry, rule: Rule, reason: string, sink: Sink): boolean {
    const src = b1.get(u.path);
    if (!src || (src.type !== 'file' && src.type !== 'symlink') || isUnread(src.digest)) {
      sink.actions.push({ kind: 'keep', path: u.path, rule, reason });
      const why = src && isUnread(src.digest) ? 'the base content was not read' : `no sidecar for a base ${src?.type ?? 'entry'}`;
      sink.conflicts.push({ path: u.path, rule, reason: `${reason}: ${why}` });
      return true;
    }
    const to = freshName(u.path, style);
    sink.actions.push({ kind: 'keep', path: u.path, rule, reason, sidecar: to });
    sink.actions.push({ kind: 'write-sidecar', path: to, from: u.path, type: src.type, digest: src.digest, mode: src.mode, uid: src.uid, gid: src.gid, rule, reason });
    return true;
  }

  function* recurse(u: UpperEntry, d: Extract<Decision, { do: 'recurse' }>, sink: Sink): Visit {
    let remains = false;
    // A child is visited by yielding it to the driver (trampoline), not by a nested call.
    for (const c of children.get(u.path) ?? []) if (yield { u: c, sink }) remains = true;
    const base = b1.get(u.path);
    let attrs = { mode: u.mode, uid: u.uid, gid: u.gid };
    if (d.attrs && base) {
      attrs = { mode: base.mode, uid: base.uid, gid: base.gid };
      sink.actions.push({ kind: 'set-attrs', path: u.path, ...attrs, rule: d.attrs.rule, reason: d.attrs.reason });
    }
    if (remains || d.emptyRule === undefined) return true;
    // A directory goes only as a copy of a base directory: its mode, owner or xattrs, when the host's
    // own, are what the host wrote, and an rmdir would leave them in no backup set.
    if (d.emptyRule === 5) {
      const was = input.b0?.get(u.path);
      if (!was || !sameAttrs(u, was) || u.xattrs !== '') {
        sink.actions.push({ kind: 'keep', path: u.path, rule: 5, reason: 'directory the new base removed, empty once reconciled; its mode, owner or xattrs are the host\'s: state now' });
        return true;
      }
      sink.actions.push({ kind: 'remove-empty-dir', path: u.path, rule: 5, reason: 'directory the new base removed, empty once reconciled' });
      return false;
    }
    if (base && sameAttrs(attrs, base) && sameXattrs(u, base)) {
      sink.actions.push({ kind: 'remove-empty-dir', path: u.path, rule: 8, reason: 'empty once reconciled and identical to the base directory' });
      return false;
    }
    return true;
  }

  const sink = new Sink();
  for (const top of children.get(TREE_ROOT) ?? []) drive(visit(top, sink), visit);
  resolveNameClashes(sink, upperByPath, b1);
  return { actions: [...sink.actions].sort(order), conflicts: [...sink.conflicts].sort((a, b) => comparePaths(a.path, b.path)) };
}

/** A visit of one upper entry: yields the children it needs visited, receives whether each remains. */
type Visit = Generator<{ u: UpperEntry; sink: Sink }, boolean, boolean>;

/** Runs a visit and the visits it asks for with an explicit stack: upper trees of any depth, no stack overflow. */
function drive(first: Visit, visit: (u: UpperEntry, sink: Sink) => Visit): boolean {
  const stack: Visit[] = [first];
  let value = false;
  while (stack.length > 0) {
    const r = stack[stack.length - 1]!.next(value);
    if (r.done) {
      stack.pop();
      value = r.value;
    } else {
      stack.push(visit(r.value.u, r.value.sink));
      value = false;
    }
  }
  return value;
}

/**
 * A sidecar or saved name that the base ships is never written (it would shadow the base); one that
 * the upper already holds as untouched state is moved to backups first (package managers overwrite an
 * older .rpmnew/.rpmsave), and anything else is left alone with a conflict.
 */
function resolveNameClashes(sink: Sink, upper: Map<RelPath, UpperEntry>, b1: BaseView): void {
  const touched = new PathSet(sink.actions.filter((a) => a.kind !== 'keep' && a.kind !== 'write-sidecar').map((a) => a.path));
  const superseded = new Set<RelPath>();
  const out: Action[] = [];
  for (const a of sink.actions) {
    if (a.kind !== 'rename' && a.kind !== 'write-sidecar') {
      out.push(a);
      continue;
    }
    const target = a.kind === 'rename' ? a.to : a.path;
    const owner = a.kind === 'rename' ? a.path : a.from;
    const what = a.kind === 'rename' ? 'saved name' : 'sidecar';
    const blocked = b1.get(target) !== undefined
      ? 'the base ships that name'
      : touched.has(target) || touched.hasBelow(target)
        ? 'the reconcile changes that entry too'
        : target.length - target.lastIndexOf('/') - 1 > NAME_MAX
          ? `the name is longer than ${NAME_MAX} bytes`
          : undefined;
    if (blocked) {
      sink.conflicts.push({ path: owner, rule: a.rule, reason: `${what} ${JSON.stringify(target)} not written: ${blocked}` });
      if (a.kind === 'rename') out.push({ kind: 'keep', path: a.path, rule: a.rule, reason: `${a.reason}; not moved aside: ${blocked}` });
      continue;
    }
    const old = upper.get(target);
    if (old) {
      out.push({ kind: 'move-to-backups', path: target, rule: a.rule, reason: `older ${what} replaced by the new one`, entry: { kind: old.kind, type: old.type } });
      touched.add(target);
      superseded.add(target);
    }
    out.push(a);
  }
  // Keep records of entries now moved aside as old sidecars go; a kept entry whose sidecar was not written says so.
  const written = new Set(out.filter((a) => a.kind === 'write-sidecar').map((a) => a.path));
  const final: Action[] = [];
  for (const a of out) {
    if (a.kind !== 'keep') final.push(a);
    else if (a.sidecar !== undefined && !written.has(a.sidecar)) final.push({ kind: 'keep', path: a.path, rule: a.rule, reason: a.reason });
    else if (!superseded.has(a.path)) final.push(a);
  }
  // Not splice(0, n, ...final): spreading a plan of a few hundred thousand actions overflows the stack.
  sink.actions.length = 0;
  for (const a of final) sink.actions.push(a);
}
