// Finds NAME.conf and its drop-ins in /etc, /run and /usr/lib (systemd precedence) and loads them.
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from '../errors.js';
import { CONFIG_DIRS, underRoot } from '../paths/layout.js';
import type { Instance } from '../systemd/instance.js';
import { listDir } from '../tree/list.js';
import { parseIni, type IniEntry } from './ini.js';
import { normalizeConfig } from './normalize.js';
import type { OverlayConfig } from './schema.js';

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot read', file, err);
  }
}

/** The files that configure NAME, in application order: the first NAME.conf found, then drop-ins by file name. */
export function configFiles(root: string, name: string): string[] {
  const dirs = CONFIG_DIRS.map((d) => underRoot(root, d));
  const main = dirs.map((d) => path.join(d, `${name}.conf`)).find((f) => fs.existsSync(f));
  // A drop-in name in a higher-priority directory masks the same name below it.
  const dropins = new Map<string, string>();
  for (const dir of [...dirs].reverse()) {
    const dd = path.join(dir, `${name}.conf.d`);
    for (const { name: f } of listDir(dd)) if (f.endsWith('.conf')) dropins.set(f, path.join(dd, f));
  }
  const ordered = [...dropins.keys()].sort().map((k) => dropins.get(k)!);
  return main ? [main, ...ordered] : ordered;
}

export function loadConfig(root: string, instance: Instance): OverlayConfig {
  const files = configFiles(root, instance.name);
  const entries: IniEntry[] = [];
  const read: string[] = [];
  for (const file of files) {
    const text = readIfExists(file);
    if (text === undefined) continue;
    entries.push(...parseIni(text, file));
    read.push(file);
  }
  return normalizeConfig(instance.name, instance.mountpoint, entries, read);
}
