// The state dir's own JSON files read back (journal, state.json, backup index): every field checked, and a
// failure is a 'corrupt' error naming the file and the field: `FILE: plan.actions[3].path: expected …`.
import { StateOverlayError } from '../errors.js';
import { isEntryPath, relPath, type RelPath } from '../model/entry.js';
import { MAX_RULE as RULES, type Rule } from '../model/rule.js';

/** What a path field must hold: a binary string (one char per byte) naming an entry below a root. */
export const REL_PATH = 'a relative path of raw bytes';

/** A short JSON rendering of a value found where something else was expected. */
function shown(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The error for a field that does not hold what it must; `got` is left out for paths (raw bytes, maybe long). */
export function fieldError(file: string, field: string, expected: string, got?: { value: unknown }): StateOverlayError {
  const tail = got === undefined ? '' : `, got ${shown(got.value)}`;
  return new StateOverlayError('corrupt', `${file}: ${field}: expected ${expected}${tail}`, { path: file });
}

/** JSON text parsed; a corrupt error naming the file when it is not JSON. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new StateOverlayError('corrupt', `${file}: not JSON: ${(err as Error).message}`, { path: file, cause: err });
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A binary string naming an entry: every char a byte, no '', '.' or '..' component, no NUL. */
export const isRelPathText = (v: unknown): v is string => typeof v === 'string' && !/[^\x00-\xff]/.test(v) && isEntryPath(relPath(v));

/** A plain file name in a directory of the state dir (a manifest's under manifests/): no '/', no leading '.'. */
export const isFileName = (v: unknown): v is string => typeof v === 'string' && v !== '' && !/[/\0]/.test(v) && !v.startsWith('.');

const list = (values: readonly unknown[]) => {
  const s = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return s.length === 1 ? s[0]! : `${s.slice(0, -1).join(', ')} or ${s[s.length - 1]}`;
};

/** One object of a JSON document and its place in it ('' for the top), its fields read with checks. */
export class Fields {
  private constructor(
    readonly file: string,
    private readonly o: Record<string, unknown>,
    readonly at: string,
  ) {}

  /** raw as an object at `at`, or an error naming it. */
  static of(file: string, raw: unknown, at = ''): Fields {
    if (!isObject(raw)) throw at === '' ? new StateOverlayError('corrupt', `${file}: expected a JSON object`, { path: file }) : fieldError(file, at, 'an object', { value: raw });
    return new Fields(file, raw, at);
  }

  /** The name of a field of this object in the document, e.g. `plan.actions[3].path`. */
  name(key: string): string {
    return this.at === '' ? key : `${this.at}.${key}`;
  }

  fail(key: string, expected: string, withValue = true): never {
    throw fieldError(this.file, this.name(key), expected, withValue ? { value: this.o[key] } : undefined);
  }

  /** The object's keys, in the file's order. */
  keys(): string[] {
    return Object.keys(this.o);
  }

  has(key: string): boolean {
    return this.o[key] !== undefined;
  }

  /** A field as it is, unchecked (for a caller's own message). */
  value(key: string): unknown {
    return this.o[key];
  }

  isObject(key: string): boolean {
    return isObject(this.o[key]);
  }

  /** The field when test holds for it. */
  check<T>(key: string, test: (v: unknown) => v is T, expected: string): T {
    const v = this.o[key];
    if (!test(v)) this.fail(key, expected);
    return v;
  }

  str(key: string): string {
    return this.check(key, (v): v is string => typeof v === 'string', 'a string');
  }

  strOrNull(key: string): string | null {
    return this.check(key, (v): v is string | null => v === null || typeof v === 'string', 'a string or null');
  }

  oneOf<const T>(key: string, values: readonly T[]): T {
    return this.check(key, (v): v is T => values.includes(v as T), values.length === 1 ? list(values) : `one of ${list(values)}`);
  }

  /** A whole number from min to max. */
  int(key: string, min: number, max: number, expected = `a whole number from ${min} to ${max}`): number {
    return this.check(key, (v): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max, expected);
  }

  /** A decision-table rule: 'one' of 1 to MAX_RULE, 'none' (null: no rule decided, a reset's), or 'any' of those. */
  rule(key: string, which: 'one' | 'none' | 'any'): Rule | null {
    if (which === 'none') return this.check(key, (v): v is null => v === null, 'null (a reset decides by no rule)');
    const one = `a whole number from 1 to ${RULES}`;
    const isRule = (v: unknown): v is Rule => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= RULES;
    if (which === 'one') return this.check(key, isRule, one);
    return this.check(key, (v): v is Rule | null => v === null || isRule(v), `${one}, or null`);
  }

  /** Permission bits (st_mode & 0o7777). */
  mode(key: string): number {
    return this.int(key, 0, 0o7777, 'permission bits (a whole number from 0 to 0o7777)');
  }

  /** A RelPath field (see REL_PATH). */
  path(key: string, expected = REL_PATH): RelPath {
    if (!isRelPathText(this.o[key])) this.fail(key, expected, false);
    return relPath(this.o[key] as string);
  }

  obj(key: string): Fields {
    return Fields.of(this.file, this.o[key], this.name(key));
  }

  /** An array field, each element an object. */
  objects(key: string): Fields[] {
    const v = this.o[key];
    if (!Array.isArray(v)) this.fail(key, 'an array');
    return v.map((e, i) => Fields.of(this.file, e, `${this.name(key)}[${i}]`));
  }
}
