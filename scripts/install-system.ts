// `npm run install-system -- --destdir DIR --prefix /usr [--layout sea|node] [--node PATH]`: installs the
// program under DIR (by default the single executable).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { installSystem, type Layout } from './install/install.js';

const { values } = parseArgs({
  options: {
    destdir: { type: 'string', default: process.env.DESTDIR || '/' },
    prefix: { type: 'string', default: '/usr/local' },
    date: { type: 'string', default: '' },
    layout: { type: 'string', default: 'sea' },
    node: { type: 'string' },
  },
  strict: true,
});

// npm runs scripts from the package root.
const repo = process.cwd();
try {
  const r = await installSystem({ repo, destdir: path.resolve(values.destdir), prefix: values.prefix, date: values.date, layout: values.layout as Layout, ...(values.node === undefined ? {} : { node: path.resolve(values.node) }) });
  for (const f of r.files) process.stdout.write(`${path.join(path.resolve(values.destdir), f)}\n`);
  for (const w of r.warnings) process.stderr.write(`install-system: warning: ${w}\n`);
} catch (err) {
  process.stderr.write(`install-system: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
