// The .rpm: a spec whose %install copies the install tree and whose %files lists it, built with
// rpmbuild -bb. rpm's post-install steps are off: they would rewrite the executable after the program
// was injected into it (strip, debug info split out) and compress the man pages a second time.
import fs from 'node:fs';
import path from 'node:path';
import { tryRun } from '../../src/exec.js';
import { LIB_DIR, NOTICES } from './install.js';
import type { PackageMeta } from './package.js';

/** rpm's names of Node's architectures. */
const RPM_ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function rpmArch(arch: string = process.arch): string {
  const a = RPM_ARCH[arch];
  if (a === undefined) throw new Error(`no rpm architecture for Node's ${arch}`);
  return a;
}

const RELEASE = '1';

/** A %files line: the notices marked %license. */
function filesLine(rel: string): string {
  const abs = `/${rel}`;
  return rel === `usr/${NOTICES}` ? `%license ${abs}` : abs;
}

/** rpm's changelog date: `Wed Dec 02 2026`. */
function changelogDate(date: string): string {
  const [wd, day, mon, year] = new Date(`${date}T12:00:00Z`).toUTCString().split(' ') as [string, string, string, string];
  return `${wd.slice(0, 3)} ${mon} ${day} ${year}`;
}

export function specFile(m: PackageMeta, files: readonly string[], tree: string): string {
  return `Name: ${m.name}
Version: ${m.version}
Release: ${RELEASE}
Summary: ${m.summary.charAt(0).toUpperCase()}${m.summary.slice(1)}
License: ${m.license}
Group: System Environment/Base
Packager: ${m.maintainer}
Requires: util-linux
Recommends: systemd

%global debug_package %{nil}
%global __os_install_post %{nil}
%global _build_id_links none

%description
${m.description}

%install
mkdir -p %{buildroot}
cp -a ${tree}/. %{buildroot}/

%files
%dir /usr/${LIB_DIR}
%dir /${path.posix.dirname(`usr/${NOTICES}`)}
${files.map(filesLine).join('\n')}

%changelog
* ${changelogDate(m.date)} ${m.maintainer} - ${m.version}-${RELEASE}
- ${m.name} ${m.version}.
`;
}

/** Builds the .rpm of the install tree `tree` (its files `files`) into outDir, rpmbuild working in `top`; returns its path. */
export async function buildRpm(tree: string, files: readonly string[], m: PackageMeta, outDir: string, top: string): Promise<string> {
  const arch = rpmArch();
  fs.mkdirSync(top, { recursive: true });
  const spec = path.join(top, `${m.name}.spec`);
  fs.writeFileSync(spec, specFile(m, files, tree));
  const name = `${m.name}-${m.version}-${RELEASE}.${arch}.rpm`;
  const r = await tryRun('rpmbuild', [
    '-bb',
    '--quiet',
    '--target',
    arch,
    '--define',
    `_topdir ${top}`,
    '--define',
    `_rpmdir ${outDir}`,
    '--define',
    `_build_name_fmt ${name}`,
    // zstd, as Fedora's own packages: rpm's default gzip -9 takes half a minute over the executable.
    '--define',
    '_binary_payload w3.zstdio',
    spec,
  ]).catch((err: Error) => {
    throw new Error(`rpmbuild: ${err.message} (the rpm package has it)`);
  });
  if (r.exitCode !== 0) throw new Error(`rpmbuild -bb ${spec}: ${r.stderr.trim()}`);
  return path.join(outDir, name);
}
