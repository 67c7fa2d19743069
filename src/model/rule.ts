// The rows of the decision table (DESIGN section 4, docs/decision-table.md) by number: 1 to 10, and 11,
// a rollback to a generation reconciled away from (plan/rollback.ts).
export type Rule = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11;

/** The highest rule number: what a journal or backup index may record. */
export const MAX_RULE = 11;

/** The rule of the steps that undo a reconcile on a rollback. */
export const ROLLBACK_RULE = 11;
