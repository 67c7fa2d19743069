// What a plan says of the base under an upper entry, for checking `diff` against `reconcile --dry-run`:
// the verdict of the rule that decided the entry, where that rule tells one.
import type { BaseChange } from '../../src/plan/change.js';

export interface Decided {
  readonly kind: string;
  readonly rule: number | null;
  readonly reason: string;
}

/** undefined: the rule decides whatever the base did (rule 1, an rmdir, rule 10). */
export function verdictOf(a: Decided): BaseChange | undefined {
  // An older sidecar or saved name moved out of the way is decided by the entry it belongs to.
  if (a.reason.includes('replaced by the new one')) return undefined;
  switch (a.rule) {
    case 2: return 'unchanged';
    case 3: case 4: case 9: return 'changed';
    case 5: return 'removed';
    case 6: return 'added';
    case 7:
      if (a.reason.includes('nothing below it changed')) return 'unchanged';
      if (a.reason.includes('removed')) return 'removed';
      if (a.reason.includes('now ships')) return 'added';
      return 'changed';
    case 8: return a.kind === 'set-attrs' ? 'changed' : undefined;
    default: return undefined;
  }
}

/**
 * Disagreements between diff's verdicts (path → base change, for the entries directly over the base) and
 * the plan's actions on the same paths. Shadows, whiteouts and opaque dirs must each be decided by the plan.
 */
export function disagreements(diff: ReadonlyMap<string, { kind: string; base: BaseChange }>, actions: readonly (Decided & { path: string })[]): string[] {
  const out: string[] = [];
  for (const [path, d] of diff) {
    const mine = actions.filter((a) => a.path === path && a.kind !== 'write-sidecar');
    if (mine.length === 0 && d.base !== 'absent' && ['shadow', 'whiteout', 'opaque-dir'].includes(d.kind)) out.push(`${path}: diff says ${d.base}, the plan does not decide it`);
    for (const a of mine) {
      const v = verdictOf(a);
      if (v !== undefined && v !== d.base) out.push(`${path}: diff says ${d.base}, rule ${a.rule} ${a.kind} (${a.reason}) says ${v}`);
    }
  }
  return out;
}
