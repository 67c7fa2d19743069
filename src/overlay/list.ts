// Which overlays exist on this host: those with a state dir, a run dir, or a configuration file.
import { StateOverlayError } from '../errors.js';
import { CONFIG_DIRS, RUN_ROOT, underRoot } from '../paths/layout.js';
import { parseInstance, STATE_ROOT } from '../systemd/instance.js';
import { listDir } from '../tree/list.js';

/** NAMEs that are valid instances, sorted; stray files that are not escaped paths are ignored. */
export function knownOverlays(root: string): string[] {
  const found = new Set<string>();
  for (const d of listDir(underRoot(root, STATE_ROOT))) if (d.isDirectory()) found.add(d.name);
  for (const dir of CONFIG_DIRS) {
    for (const d of listDir(underRoot(root, dir))) {
      if (d.isFile() && d.name.endsWith('.conf')) found.add(d.name.slice(0, -'.conf'.length));
      else if (d.isDirectory() && d.name.endsWith('.conf.d')) found.add(d.name.slice(0, -'.conf.d'.length));
      // /run/state-overlay holds both configuration and the run dirs of overlays (base binds, ephemeral uppers)
      else if (d.isDirectory() && dir === RUN_ROOT) found.add(d.name);
    }
  }
  return [...found]
    .filter((n) => {
      try {
        parseInstance(n);
        return true;
      } catch (err) {
        if (err instanceof StateOverlayError && err.code === 'usage') return false;
        throw err;
      }
    })
    .sort();
}
