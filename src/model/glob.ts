// The [Paths] globs' one compiler (picomatch): the matcher the planner classifies with, and the check
// configuration loading runs first, so a glob that cannot be read is an error at its file and line.
import picomatch from 'picomatch';

// flags 's': a name may hold a newline, which picomatch's globstar (built on '.') would not match.
const OPTIONS = { dot: true, flags: 's' } as const;

/** A matcher of absolute host paths (binary strings). */
export function globMatcher(glob: string): (s: string) => boolean {
  return picomatch(glob, OPTIONS);
}

/**
 * Why the glob is malformed (an unclosed `[`, `{` or `(`: picomatch would otherwise read it as a
 * literal), or undefined.
 */
export function globError(glob: string): string | undefined {
  try {
    picomatch.makeRe(glob, { ...OPTIONS, strictBrackets: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
