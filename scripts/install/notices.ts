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

/** THIRD-PARTY-NOTICES: one section per package; a package without a license file stops the install. */
export function thirdPartyNotices(projectLicense: string, packageDirs: readonly string[]): string {
  const parts = [
    `state-overlay is licensed under ${projectLicense}. Its bundle (program.cjs) and the native addon`,
    'beside it (xattr.node) contain the following packages, each under its own license.',
    '',
  ];
  for (const dir of packageDirs) {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    const file = fs.readdirSync(dir).filter((f) => LICENSE_FILE.test(f)).sort()[0];
    if (file === undefined) throw new Error(`${dir}: no license file in ${pkg.name}@${pkg.version}: it cannot be shipped without one`);
    parts.push('='.repeat(78), `${pkg.name} ${pkg.version} (${pkg.license ?? 'see below'})`, '='.repeat(78), '', fs.readFileSync(path.join(dir, file), 'utf8').trimEnd(), '');
  }
  return parts.join('\n');
}
