// A small JSON Schema checker for the keywords docs/status.schema.json uses (no validator is a dependency).
type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const KNOWN = new Set(['$schema', '$id', 'title', 'description', 'type', 'enum', 'const', 'required', 'properties', 'additionalProperties', 'items', '$ref', '$defs', 'oneOf', 'minimum']);

/** Every violation of `schema` by `value`, as `path: problem` lines; [] when valid. */
export function check(root: Schema, value: unknown, schema: Schema = root, at = '$'): string[] {
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) return [`${at}: schema keyword ${k} is not supported by this checker`];
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace(/^#\/\$defs\//, '');
    return check(root, value, (root.$defs as Record<string, Schema>)[name]!, at);
  }
  const errs: string[] = [];
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const types = ([] as string[]).concat(schema.type as string | string[]);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [`${at}: expected ${types.join('|')}, got ${t}`];
  }
  if ('const' in schema && value !== schema.const) errs.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum !== undefined && !(schema.enum as unknown[]).includes(value)) errs.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < (schema.minimum as number)) errs.push(`${at}: below ${schema.minimum}`);
  if (schema.oneOf !== undefined) {
    const ok = (schema.oneOf as Schema[]).filter((s) => check(root, value, s, at).length === 0).length;
    if (ok !== 1) errs.push(`${at}: matches ${ok} of oneOf, expected 1`);
  }
  if (t === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k of (schema.required as string[] | undefined) ?? []) if (!(k in obj)) errs.push(`${at}: missing ${k}`);
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errs.push(...check(root, v, props[k], `${at}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected ${k}`);
    }
  }
  if (t === 'array' && schema.items !== undefined) (value as unknown[]).forEach((v, i) => errs.push(...check(root, v, schema.items as Schema, `${at}[${i}]`)));
  return errs;
}
