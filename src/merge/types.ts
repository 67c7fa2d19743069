// The contract every merge driver keeps: a pure function of three byte strings.

/**
 * What a merge returns: the merged bytes (with `notes`, sentences naming what a documented rule decided
 * against the host's change, if any), or the conflicts that stop it (each a sentence naming the entry or hunk).
 */
export type MergeOutcome =
  | { readonly kind: 'merged'; readonly content: Buffer; readonly notes?: readonly string[] }
  | { readonly kind: 'conflict'; readonly conflicts: readonly string[] };

/** A merge driver: the old base's (B0), the new base's (B1) and the host's (upper) bytes of one file. */
export type MergeDriver = (b0: Buffer, b1: Buffer, upper: Buffer) => MergeOutcome;
