// Checks a [Paths] glob's brackets as picomatch reads them with strictBrackets, without loading it:
// configuration is read by every command, picomatch only by a reconcile (test/model/glob.test.ts
// compares the two on generated globs).

const missing = (kind: 'opening' | 'closing', char: string) => `Missing ${kind}: "${char}" - use "\\\\${char}" to match literal characters`;

/**
 * Why the glob is malformed (a `[`, `{` or `(` left open, a `]` or `)` never opened: picomatch would
 * otherwise read it as a literal), or undefined.
 */
export function globError(glob: string): string | undefined {
  let brackets = 0;
  let parens = 0;
  let braces = 0;
  // The bracket expression read so far ('[', '[^', …): a ']' right after '[' or '[^' is a member.
  let cls = '';
  for (let i = 0; i < glob.length; i++) {
    let c = glob[i]!;
    if (c === '\\') c += glob[++i] ?? '';
    if (brackets > 0 && (c !== ']' || cls === '[' || cls === '[^')) {
      cls += c;
      continue;
    }
    if (c === '(') parens++;
    else if (c === ')') {
      if (parens === 0) return missing('opening', '(');
      parens--;
    } else if (c === '[') {
      if (!glob.slice(i + 1).includes(']')) return missing('closing', ']');
      brackets++;
      cls = '[';
    } else if (c === ']') {
      if (brackets === 0) return missing('opening', '[');
      brackets--;
    } else if (c === '{') braces++;
    else if (c === '}' && braces > 0) braces--;
  }
  if (brackets > 0) return missing('closing', ']');
  if (parens > 0) return missing('closing', ')');
  if (braces > 0) return missing('closing', '}');
  return undefined;
}
