// Builds the program, runs it, prints the error chain once and sets the exit code.
import { buildProgram, asUsageError } from './cli/program.js';
import { errorJson, wantsJson } from './cli/render/error.js';
import { jsonText } from './cli/render/json.js';
import { errorChain, exitCodeOf, ExitCode, StateOverlayError } from './errors.js';
import { journal } from './log/logger.js';

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return ExitCode.ok;
  } catch (raw) {
    const err = asUsageError(raw);
    if (err === null) return ExitCode.ok;
    // commander already printed its own usage message
    if (err !== raw) {
      if (wantsJson(argv)) process.stdout.write(`${jsonText(errorJson(err))}\n`);
      return exitCodeOf(err);
    }
    report(err, argv);
    return exitCodeOf(err);
  }
}

/** Heads of the failures already reported: one error reaching us twice is said once. */
const reported = new Set<string>();

/** Prints the error chain once: on stderr, or under systemd as one journal record at its priority. */
function report(err: unknown, argv: readonly string[]): void {
  const [head = String(err), ...causes] = errorChain(err);
  if (reported.has(head)) return;
  reported.add(head);
  if (wantsJson(argv) && !(err instanceof StateOverlayError && err.reported)) process.stdout.write(`${jsonText(errorJson(err))}\n`);
  const j = journal();
  if (j !== null) {
    const path = err instanceof StateOverlayError ? err.path : undefined;
    j.error({ event: 'failed', message: [head, ...causes].join(': '), code: err instanceof StateOverlayError ? err.code : 'internal', exitCode: exitCodeOf(err), ...(path ? { path } : {}) });
    return;
  }
  process.stderr.write(`state-overlay: ${head}\n`);
  for (const c of causes) process.stderr.write(`  caused by: ${c}\n`);
  if (process.env.STATE_OVERLAY_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
}

// A rejection nothing handles or an exception outside every promise ends the run as Node would (at once, like
// a crash, which the journal recovers from), but with the one message of any failure, never a stack trace.
// Node 20 rejects a lazy import() whose CommonJS dependency could not be read (EIO) twice: to the import
// (main reports it) and as an unhandled rejection of its module loader, the same error, said once.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err: unknown) => {
    report(err, process.argv);
    process.exit(exitCodeOf(err));
  });
}

// A reader that went away (`state-overlay status | head`) is not an error of ours. Output that cannot
// be written (a full disk) comes after the work it reports: say so once, on stderr if that can be
// written, and exit 1, never with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  try {
    process.stderr.write(`state-overlay: cannot write the output to standard output: ${err.code ?? err.message}\n`);
  } catch {
    // stderr is gone too: the exit code still tells
  }
  process.exit(ExitCode.failure);
});

// No top-level await: the installed program is a CommonJS bundle (scripts/install/bundle.ts).
void main(process.argv).then((code) => {
  process.exitCode = code;
});
