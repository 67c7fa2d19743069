// The configuration's sections and keys, as the configuration code itself lists them in its "unknown" errors.
import { normalizeConfig } from '../../src/config/normalize.js';

/** The message of what normalizeConfig throws for one entry. */
function configMessage(section: string, key: string): string {
  try {
    normalizeConfig('opt', '/opt', [{ section, key, value: 'x', file: 'f.conf', line: 1 }], []);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`[${section}] ${key}= was accepted`);
}

/** Sections and keys as the configuration code itself lists them in its "unknown" errors. */
export function configKeys(): Array<[string, string]> {
  const sections = [...configMessage('NoSuchSection', 'K').split('expected ')[1]!.matchAll(/\[(\w+)\]/g)].map((m) => m[1]!);
  return sections.flatMap((s) => {
    const listed = configMessage(s, 'NoSuchKey').split(', expected ')[1]!;
    return listed.split(/, | or /).map((k): [string, string] => [s, k]);
  });
}
