// A failure as a document: under --json a script reads stdout only, so an error is JSON there too.
import { errorChain, exitCodeOf, StateOverlayError, type ErrorCode } from '../../errors.js';
import { document } from './json.js';

export function errorJson(err: unknown) {
  const [message = 'unknown error', ...causes] = errorChain(err);
  const code: ErrorCode = err instanceof StateOverlayError ? err.code : 'internal';
  const path = err instanceof StateOverlayError ? (err.path ?? null) : null;
  return document('Error', { code, exitCode: exitCodeOf(err), message, causes, path });
}

/** --json given before `--` (read from argv: a usage error may stop commander before it sets the option). */
export const wantsJson = (argv: readonly string[]): boolean => {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
};
