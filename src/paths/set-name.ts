// Names of backup sets: a UTC stamp that sorts by time, then the generation in safe characters.

/** UTC stamp that sorts by time: 20261123T162233123Z. */
export function stampOf(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** A set name: the stamp, then the generation reduced to safe characters (the index keeps it exactly). */
export function setName(at: Date, generation: string): string {
  // A run of dots becomes one '_': a set name never holds '..' (listing refuses such a name).
  let g = generation.replace(/[^A-Za-z0-9_.:+-]/g, '_').replace(/\.{2,}/g, '_');
  if (g.length > 100) g = g.slice(0, 100);
  return `${stampOf(at)}-${g}`;
}

const SET_RE = /^\d{8}T\d{9}Z-[A-Za-z0-9_.:+-]+$/;
export const isSetName = (name: string): boolean => SET_RE.test(name) && !name.includes('..');
