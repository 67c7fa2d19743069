// Applies parsed INI entries onto the defaults, validating every value once; returns a frozen config.
import path from 'node:path';
import { StateOverlayError } from '../errors.js';
import { globError } from '../model/glob.js';
import { RUN_ROOT } from '../paths/layout.js';
import { STATE_ROOT, checkMountpoint } from '../systemd/instance.js';
import { configError, type IniEntry } from './ini.js';
import { DRIVER_NAMES } from '../merge/drivers.js';
import { CONFIG_FROM, CONFIG_MERGES, RECONCILE_MODES, defaultConfig, type GenerationSource, type OverlayConfig } from './schema.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] extends object ? Mutable<T[K]> : T[K] };
type Draft = Mutable<OverlayConfig>;

function oneOf<T extends string>(allowed: readonly T[]) {
  return (e: IniEntry): T => {
    if ((allowed as readonly string[]).includes(e.value)) return e.value as T;
    throw bad(e, `expected ${listWords(allowed)}`);
  };
}

function listWords(words: readonly string[]): string {
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function bad(e: IniEntry, expected: string): StateOverlayError {
  return configError(e.file, e.line, `${e.key}=${e.value}: ${expected}`);
}

function absolutePath(e: IniEntry): string {
  if (!e.value.startsWith('/')) throw bad(e, 'expected an absolute path');
  if (e.value.split('/').includes('..')) throw bad(e, "expected a path without '..'");
  return e.value;
}

/**
 * Base=: a directory the tool does not make itself. Under /run/state-overlay it would be a base bind or an
 * ephemeral upper (an empty directory before the mount, the merged view after), under /var/lib/state-overlay
 * an upper or a backup set: read as the image's tree, either would drop what the host wrote.
 */
function ownBase(e: IniEntry): string {
  const p = path.posix.normalize(absolutePath(e)).replace(/\/+$/, '');
  for (const own of [RUN_ROOT, STATE_ROOT]) {
    if (p === own || p.startsWith(`${own}/`)) throw bad(e, `expected the image's directory, not one under ${own} (the tool's own state)`);
  }
  return e.value;
}

function glob(e: IniEntry): string {
  if (!e.value.startsWith('/')) throw bad(e, 'expected an absolute glob such as /opt/*/etc/**');
  const why = globError(e.value);
  if (why !== undefined) throw bad(e, `expected a glob such as /opt/*/etc/** (${why})`);
  return e.value;
}

/** `Merge=GLOB:DRIVER`: the glob up to the last colon, a driver name after it. */
function mergeRule(e: IniEntry): { glob: string; driver: string } {
  const at = e.value.lastIndexOf(':');
  const driver = at < 0 ? '' : e.value.slice(at + 1);
  if (at < 0 || !DRIVER_NAMES.includes(driver)) throw bad(e, `expected GLOB:DRIVER, DRIVER one of ${listWords(DRIVER_NAMES)}`);
  return { glob: glob({ ...e, value: e.value.slice(0, at) }), driver };
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 };

/** A size in bytes with an optional K, M or G suffix (powers of 1024), at most 1 GiB: a merge reads the whole file. */
function byteSize(e: IniEntry): number {
  const m = /^([0-9]{1,10})([KMG]?)$/i.exec(e.value);
  const n = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!(n >= 0 && n <= UNITS.G!)) throw bad(e, 'expected a size in bytes with an optional K, M or G suffix, at most 1G');
  return n;
}

function generation(e: IniEntry): GenerationSource {
  if (e.value.startsWith('command:')) {
    const command = e.value.slice('command:'.length);
    if (!command.startsWith('/')) throw bad(e, 'expected command:/absolute/path/to/program');
    return { kind: 'command', command };
  }
  const kind = oneOf(['auto', 'tree', 'ostree', 'manifest'] as const)({ ...e });
  return { kind };
}

/** Backups.Keep= at most: six digits. */
const MAX_BACKUP_SETS = 999_999;

/** Keys by section; a list key appends, and an empty assignment resets it (systemd's rule). */
const handlers: Record<string, Record<string, (d: Draft, e: IniEntry) => void>> = {
  Overlay: {
    Path: (d, e) => {
      try {
        d.path = checkMountpoint(absolutePath(e), 'Path');
      } catch (cause) {
        if (cause instanceof StateOverlayError && cause.code === 'config') throw cause;
        throw bad(e, `expected a mountpoint that can be overlaid (${(cause as Error).message})`);
      }
    },
    Base: (d, e) => {
      d.base = e.value === '' ? null : ownBase(e);
    },
    Mode: (d, e) => {
      d.mode = oneOf(['persistent', 'ephemeral'] as const)(e);
    },
    EphemeralSize: (d, e) => {
      if (e.value === '') d.ephemeralSize = defaultConfig('', '/').ephemeralSize;
      else if (/^[1-9]\d{0,2}%$/.test(e.value) && Number(e.value.slice(0, -1)) <= 100) d.ephemeralSize = e.value;
      else if (/^[1-9]\d{0,15}[kmgKMG]?$/.test(e.value)) d.ephemeralSize = e.value;
      else throw bad(e, 'expected a size as tmpfs takes it: a percentage of RAM from 1% to 100%, or bytes with an optional K, M or G suffix');
    },
    Reconcile: (d, e) => {
      d.reconcile = oneOf(RECONCILE_MODES)(e);
    },
    UnknownBase: (d, e) => {
      d.unknownBase = oneOf(['prune', 'keep'] as const)(e);
    },
    Rollback: (d, e) => {
      d.rollback = oneOf(['restore', 'ignore'] as const)(e);
    },
    Generation: (d, e) => {
      d.generation = generation(e);
    },
  },
  Paths: {
    Config: (d, e) => listKey(d.paths.config, e),
    ConfigPolicy: (d, e) => {
      d.paths.configPolicy = oneOf(['noreplace', 'replace'] as const)(e);
    },
    ConfigReplace: (d, e) => listKey(d.paths.configReplace, e),
    ConfigFrom: (d, e) => {
      d.paths.configFrom = oneOf(CONFIG_FROM)(e);
    },
    SuffixStyle: (d, e) => {
      d.paths.suffixStyle = oneOf(['rpm', 'dpkg'] as const)(e);
    },
    Keep: (d, e) => listKey(d.paths.keep, e),
    ConfigMerge: (d, e) => {
      d.paths.configMerge = oneOf(CONFIG_MERGES)(e);
    },
    Merge: (d, e) => {
      if (e.value === '') d.paths.merge.length = 0;
      else d.paths.merge.push(mergeRule(e));
    },
    MergeMaxSize: (d, e) => {
      d.paths.mergeMaxSize = e.value === '' ? defaultConfig('', '/').paths.mergeMaxSize : byteSize(e);
    },
  },
  Backups: {
    Keep: (d, e) => {
      if (!/^[1-9][0-9]*$/.test(e.value) || Number(e.value) > MAX_BACKUP_SETS) throw bad(e, `expected a whole number of backup sets from 1 to ${MAX_BACKUP_SETS}`);
      d.backups.keep = Number(e.value);
    },
  },
};

function listKey(list: string[], e: IniEntry): void {
  if (e.value === '') list.length = 0;
  else list.push(glob(e));
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Builds the config of overlay `name` (mountpoint `path`) from entries in application order. */
export function normalizeConfig(name: string, path: string, entries: readonly IniEntry[], sources: readonly string[]): OverlayConfig {
  const draft = structuredClone(defaultConfig(name, path)) as Draft;
  for (const e of entries) {
    const section = handlers[e.section];
    if (!section) throw configError(e.file, e.line, `[${e.section}]: unknown section, expected [Overlay], [Paths] or [Backups]`);
    const handler = section[e.key];
    if (!handler) {
      throw configError(e.file, e.line, `${e.key}=${e.value}: unknown key in [${e.section}], expected ${listWords(Object.keys(section))}`);
    }
    handler(draft, e);
  }
  draft.sources = [...sources];
  return deepFreeze(draft as OverlayConfig);
}
