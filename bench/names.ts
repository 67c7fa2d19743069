// Realistic file and directory names for generated trees, with a small share of odd bytes.
import type { Rng } from './rng.js';

const DIR_WORDS = [
  'lib', 'share', 'doc', 'locale', 'LC_MESSAGES', 'python3', 'site-packages', 'node_modules', 'include',
  'plugins', 'modules', 'resources', 'icons', 'hicolor', 'x86_64-linux-gnu', 'man', 'man1', 'templates',
  'static', 'assets', 'vendor', 'src', 'tests', 'config', 'data', 'dist', 'themes', 'fonts', 'images',
  'scripts', 'extensions', 'jre', 'security', 'libexec', 'tools', 'sdk', 'runtime', 'platform', 'core',
];
const STEMS = [
  'index', 'main', 'util', 'core', 'config', 'parser', 'README', 'LICENSE', 'client', 'server', 'common',
  'types', 'test', 'setup', 'base', 'helpers', 'messages', 'icon', 'module', 'plugin', 'worker', 'cache',
  'schema', 'default', 'logging', 'errors', 'version', 'api', 'http', 'crypto', 'codec', 'stream',
];
const EXTS = [
  '', '.txt', '.py', '.pyc', '.js', '.json', '.h', '.so', '.png', '.mo', '.html', '.xml', '.conf', '.gz',
  '.md', '.jar', '.class', '.svg', '.css', '.ts', '.map', '.cfg', '.ini', '.pem',
];
const APPS = ['acme', 'vendor-agent', 'jdk', 'tooling', 'monitor', 'db', 'browser', 'sdk', 'suite', 'cli', 'edge', 'sensor'];

/** Odd but legal name bytes (binary strings): a space, UTF-8 accents, an invalid UTF-8 byte, a leading dash. */
const ODD = [' copy', '\xc3\xa9t\xc3\xa9', '\xff\xfe', '-x', ' (1)', '\xe2\x80\x94draft'];

export function packageName(rng: Rng, i: number): string {
  return `${rng.pick(APPS)}${i}-${rng.int(1, 9)}.${rng.int(0, 20)}`;
}

export function dirName(rng: Rng): string {
  const w = rng.pick(DIR_WORDS);
  return rng.chance(0.4) ? `${w}${rng.int(0, 99)}` : rng.chance(0.5) ? w : `${rng.pick(STEMS)}_${w}`;
}

export function fileName(rng: Rng, inBin: boolean, oddShare: number): string {
  let name = inBin ? `${rng.pick(STEMS)}${rng.chance(0.5) ? `-${rng.pick(STEMS)}` : ''}` : `${rng.pick(STEMS)}${rng.int(0, 999)}${rng.pick(EXTS)}`;
  if (rng.chance(oddShare)) name = rng.chance(0.5) ? `${rng.pick(ODD)}${name}` : `${name}${rng.pick(ODD)}`;
  return name;
}

/** A name not yet in `taken`; adds it. */
export function unique(taken: Set<string>, name: string): string {
  let n = name;
  for (let i = 1; taken.has(n); i++) n = `${name}.${i}`;
  taken.add(n);
  return n;
}
