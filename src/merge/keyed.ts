// Three-way decisions over keyed records (a dpkg status stanza, a diversion, a stat override): each key's
// record in the old base, the new base and the host's copy decides which one the merge keeps.

/** A record's text by key, in file order. */
export type Records = ReadonlyMap<string, string>;

export interface Decision {
  readonly key: string;
  /** The merged record; undefined when the key is in neither the merge nor, then, the output. */
  readonly text: string | undefined;
  /** Whose change the merged record is: the host's (the base left the key alone), else the new base's. */
  readonly from: 'host' | 'base';
  /** Both changed the key, differently: the new base's record is `text`; the host's was not applied. */
  readonly clash: boolean;
}

/** What a side did to a record relative to the old base. */
export const change = (o: string | undefined, x: string | undefined): 'added' | 'removed' | 'changed' => (o === undefined ? 'added' : x === undefined ? 'removed' : 'changed');

/**
 * Every key of the three, in the new base's order, then the host's, then the old base's: the host's change
 * where the base left the key as it was, the base's record otherwise (equal changes are no clash).
 */
export function decide(b0: Records, b1: Records, upper: Records): Decision[] {
  const keys = new Set([...b1.keys(), ...upper.keys(), ...b0.keys()]);
  return [...keys].map((key) => {
    const [o, b, u] = [b0.get(key), b1.get(key), upper.get(key)];
    if (o === b) return { key, text: u, from: 'host', clash: false };
    return { key, text: b, from: 'base', clash: u !== o && u !== b };
  });
}
