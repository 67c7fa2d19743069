// Builds the native addon and dist/ once before the suites that spawn the CLI (`node bin/state-overlay.js`) run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export default function setup(): void {
  const repo = path.resolve(import.meta.dirname, '..');
  // make's work: nothing when native/ did not change since the last build.
  execFileSync('sh', [path.join(repo, 'scripts/build-native.sh')], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    execFileSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', path.join(repo, 'tsconfig.build.json')], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // tsc emits JavaScript even with type errors; typecheck reports those. Only a missing build is fatal.
    if (!fs.existsSync(path.join(repo, 'dist/main.js'))) throw err;
  }
}
