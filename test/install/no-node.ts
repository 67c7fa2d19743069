// An environment with no Node on PATH: a directory of links to the programs state-overlay runs
// (mount, umount, cp, modprobe, systemd-notify) and the shell tools the tests drive it with.
import fs from 'node:fs';
import path from 'node:path';
import { execaSync } from 'execa';

const TOOLS = ['mount', 'umount', 'cp', 'modprobe', 'systemd-notify', 'sh', 'script'];

/** The environment, its PATH a new directory under dir holding only those programs. */
export function noNodeEnv(dir: string): Record<string, string> {
  const bin = path.join(dir, 'no-node-bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const t of TOOLS) {
    const found = execaSync('sh', ['-c', `command -v ${t}`], { reject: false }).stdout.trim();
    if (found !== '') fs.symlinkSync(found, path.join(bin, t));
  }
  return { PATH: bin, HOME: '/nonexistent', LANG: 'C' };
}
