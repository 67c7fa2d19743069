// `npm run package -- [--out DIR] [--format deb,rpm] [--node PATH]`: builds the .deb and the .rpm
// of the single executable from one run of the install step, and prints their paths.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FORMATS, buildPackages, type Format } from './install/package.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'dist-packages' },
    format: { type: 'string', default: FORMATS.join(',') },
    node: { type: 'string' },
  },
  strict: true,
});

// npm runs scripts from the package root.
const repo = process.cwd();
try {
  const formats = values.format.split(',');
  const bad = formats.filter((f) => !(FORMATS as readonly string[]).includes(f));
  if (bad.length > 0 || formats.length === 0) throw new Error(`--format ${values.format}: expected ${FORMATS.join(', ')} or both, comma-separated`);
  const made = await buildPackages({ repo, out: path.resolve(values.out), formats: formats as Format[], ...(values.node === undefined ? {} : { node: path.resolve(values.node) }) });
  for (const f of made) process.stdout.write(`${f}\n`);
} catch (err) {
  process.stderr.write(`package: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
