#!/usr/bin/env node
// Entry point: the compiled program lives in dist/ (built by `npm ci` through `prepare`). Loaded
// dynamically: a module file that cannot be read (EIO on a failing disk, a broken install) is one clear
// line and exit 1, where a static import would end in Node's own stack trace.
import process from 'node:process';

import('../dist/main.js').catch((err) => {
  process.stderr.write(`state-overlay: cannot load the program: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
