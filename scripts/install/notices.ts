// The notices the bundle owes the packages compiled into it (esbuild drops their comments): each
// package's name, version and license, and its own license file verbatim.
import fs from 'node:fs';
import path from 'node:path';

const LICENSE_FILE = /^(licen[cs]e|copying)([-.].*)?$/i;

/** The package directories (…/node_modules/NAME or …/node_modules/@SCOPE/NAME) the bundle's inputs lie in, sorted, once each. */
export function bundledPackages(repo: string, inputs: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const f of inputs) {
    const abs = path.resolve(repo, f);
    const at = abs.lastIndexOf(`${path.sep}node_modules${path.sep}`);
    if (at < 0) continue;
    const rest = abs.slice(at + '/node_modules/'.length).split(path.sep);
    const name = rest[0]!.startsWith('@') ? rest.slice(0, 2).join('/') : rest[0]!;
    dirs.add(path.join(abs.slice(0, at), 'node_modules', name));
  }
  return [...dirs].sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
}

/** Node itself, which the single executable contains: its version and license text. */
export interface NodeNotice {
  readonly version: string;
  readonly license: string;
}

/** Where Node's license lies beside a Node binary PREFIX/bin/node: an official tarball's root, NodeSource's and Debian's doc directories. */
const nodeLicensePlaces = (prefix: string): string[] => [path.join(prefix, 'LICENSE'), path.join(prefix, 'share/doc/nodejs/LICENSE'), path.join(prefix, 'share/doc/node/LICENSE')];

/** The license of the Node binary `node`, of that version. */
export function nodeLicense(node: string, version: string): NodeNotice {
  const prefix = path.dirname(path.dirname(fs.realpathSync(node)));
  const places = nodeLicensePlaces(prefix);
  const file = places.find((f) => fs.existsSync(f));
  if (file === undefined) throw new Error(`${node}: no license file of Node found (looked for ${places.join(', ')}): the single executable cannot be shipped without one`);
  return { version, license: fs.readFileSync(file, 'utf8') };
}

/**
 * THIRD-PARTY-NOTICES: one section per package, and Node's when the single executable holds it; a
 * package without a license file stops the install.
 */
export function thirdPartyNotices(projectLicense: string, packageDirs: readonly string[], node?: NodeNotice): string {
  const parts =
    node === undefined
      ? [`state-overlay is licensed under ${projectLicense}. Its bundle (program.cjs) and the native addon`, 'beside it (xattr.node) contain the following packages, each under its own license.', '']
      : [
          `state-overlay is licensed under ${projectLicense}. Its executable (a Node.js single executable) and`,
          'the native addon beside it (xattr.node) contain Node.js and the following packages, each under',
          'its own license.',
          '',
        ];
  const section = (title: string, text: string) => parts.push('='.repeat(78), title, '='.repeat(78), '', text.trimEnd(), '');
  if (node !== undefined) section(`Node.js ${node.version.replace(/^v/, '')} (MIT and others, below)`, node.license);
  for (const dir of packageDirs) {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    const file = fs.readdirSync(dir).filter((f) => LICENSE_FILE.test(f)).sort()[0];
    if (file === undefined) throw new Error(`${dir}: no license file in ${pkg.name}@${pkg.version}: it cannot be shipped without one`);
    section(`${pkg.name} ${pkg.version} (${pkg.license ?? 'see below'})`, fs.readFileSync(path.join(dir, file), 'utf8'));
  }
  return parts.join('\n');
}
