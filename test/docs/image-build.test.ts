// examples/bootc/Containerfile, as far as this machine goes without a container engine: its build stage's
// COPY list and package step run on a scratch build context, the rpm it makes is installed into a
// scratch image root (rpm --root, as the image stage's dnf does), its state-overlay and systemctl RUN
// lines run there with the INSTALLED executable, and the image root ends up with exactly the
// packaged files, the shipped manifest and the enablement symlink. examples/README.md's plain-host
// install runs into a scratch root the same way.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContainerfile, runCommands, type Stage } from './containerfile.js';
import { REPO } from './markdown.js';

const CONTAINERFILE = path.join(REPO, 'examples/bootc/Containerfile');
const stages = parseContainerfile(fs.readFileSync(CONTAINERFILE, 'utf8'));
const [build, image] = stages as [Stage, Stage];
/** Fedora's rpm database, under the image root. */
const RPMDB = '/usr/lib/sysimage/rpm';
const bareEnv = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: '/nonexistent', LANG: 'C' };

let scratch: string;
let imageRoot: string;
let launcher: string;
/** The /opt of the scratch image: relative path → sha256 of content or link target ('' for directories). */
let optBefore: Map<string, string>;

/** Every non-directory under dir (files and symlinks), as relative paths. */
function files(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
    const r = path.posix.join(rel, d.name);
    return d.isDirectory() ? files(dir, r) : [r];
  });
}

function snapshot(dir: string, rel = '', out = new Map<string, string>()): Map<string, string> {
  for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true, encoding: 'buffer' })) {
    const r = rel === '' ? d.name.toString('latin1') : `${rel}/${d.name.toString('latin1')}`;
    const abs = Buffer.from(path.join(dir, r), 'latin1');
    if (d.isDirectory()) {
      out.set(r, '');
      snapshot(dir, r, out);
    } else {
      const data = d.isSymbolicLink() ? fs.readlinkSync(abs, { encoding: 'buffer' }) : fs.readFileSync(abs);
      out.set(r, crypto.createHash('sha256').update(data).digest('hex'));
    }
  }
  return out;
}

/** A small, slightly hostile /opt: nested dirs, a config file, a symlink out of the tree, a name that is not UTF-8. */
function makeOpt(root: string): void {
  const opt = path.join(root, 'opt');
  fs.mkdirSync(path.join(opt, 'example/bin'), { recursive: true });
  fs.mkdirSync(path.join(opt, 'example/etc'));
  fs.writeFileSync(path.join(opt, 'example/bin/example'), '#!/bin/sh\necho example 1.0\n', { mode: 0o755 });
  fs.writeFileSync(path.join(opt, 'example/etc/example.conf'), 'port=80\n');
  fs.symlinkSync('/etc/passwd', path.join(opt, 'example/etc/outside'));
  fs.writeFileSync(Buffer.concat([Buffer.from(`${opt}/example/caf`), Buffer.from([0xe9])]), 'latin-1 name\n');
}

/** Commands and options the installed program lists in its help. */
async function helpOf(args: string[]): Promise<{ commands: string[]; options: string[] }> {
  const r = await execa(launcher, [...args, '--help'], { env: bareEnv, extendEnv: false });
  const commandsPart = r.stdout.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  const optionsPart = r.stdout.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return {
    commands: [...commandsPart.matchAll(/^ {2}([a-z]+)(?:\|([a-z]+))?/gm)].flatMap((m) => [m[1]!, ...(m[2] ? [m[2]] : [])]),
    options: [...optionsPart.matchAll(/^ {2}(?:(-[a-zA-Z]), )?(--[a-z-]+)/gm)].flatMap((m) => [m[2]!, ...(m[1] ? [m[1]] : [])]),
  };
}

/** The RUN commands of a stage that start with `word`. */
function runsOf(stage: Stage, word: string): string[][] {
  return stage.instructions.filter((i) => i.op === 'RUN').flatMap((i) => runCommands(i.args)).filter((c) => c[0] === word);
}

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'so-image-build-'));
  imageRoot = path.join(scratch, 'image');
  fs.mkdirSync(imageRoot);

  // The build stage: its COPY lines into a scratch context (WORKDIR /src), the repo's node_modules for `npm ci`.
  const workdir = build.instructions.find((i) => i.op === 'WORKDIR')!.args;
  const context = path.join(scratch, 'build');
  const inContext = (p: string) => path.join(context, path.posix.resolve(workdir, p));
  for (const copy of build.instructions.filter((i) => i.op === 'COPY')) {
    const words = copy.args.split(/\s+/);
    const dest = words.pop()!;
    for (const src of words) {
      const to = dest.endsWith('/') && !src.endsWith('/') ? path.join(inContext(dest), path.basename(src)) : inContext(dest);
      fs.cpSync(path.join(REPO, src), to, { recursive: true, verbatimSymlinks: true });
    }
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), inContext('node_modules'));
  // What `npm ci` builds beyond node_modules: its prepare step's native addon (the rest of the build, dist/, the install does not use).
  await execa('sh', [inContext('scripts/build-native.sh')], { cwd: inContext('.') });

  // The package step exactly as the build stage runs it, into a scratch /out.
  const out = path.join(scratch, 'out');
  const [pack] = runsOf(build, 'npm').filter((c) => c[1] === 'run' && c[2] === 'package');
  const args = pack!.slice(1).map((w) => (w === '/out' ? out : w));
  await execa('npm', args, { cwd: inContext('.'), env: { ...process.env, npm_config_loglevel: 'error' } });
  // The image stage's dnf install of what /out holds: rpm into the image root (the build machine's
  // rpm has none of Fedora's packages to satisfy its requirements), its database where Fedora keeps it.
  const rpms = fs.readdirSync(out).filter((f) => f.endsWith('.rpm'));
  expect(rpms).toHaveLength(1);
  await execa('rpm', ['--root', imageRoot, '--dbpath', RPMDB, '--nodeps', '-i', path.join(out, rpms[0]!)]);
  launcher = path.join(imageRoot, 'usr/bin/state-overlay');
  makeOpt(imageRoot);
  optBefore = snapshot(path.join(imageRoot, 'opt'));
}, 300_000);

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('examples/bootc/Containerfile', () => {
  it('has a builder stage and an image stage that copies what the install step laid down', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', undefined]);
    expect(runsOf(build, 'npm').map((c) => c.join(' '))).toEqual(['npm ci', 'npm run package -- --format rpm --out /out']);
    expect(image.instructions.find((i) => i.op === 'COPY')?.args).toBe('--from=build /out/ /tmp/packages/');
    expect(runsOf(image, 'dnf').map((c) => c.join(' '))).toEqual(['dnf -y install /tmp/packages/state-overlay-*.rpm', 'dnf clean all']);
    expect(runsOf(image, 'state-overlay').map((c) => c.join(' '))).toEqual(['state-overlay index --root / --ship opt']);
    expect(runsOf(image, 'systemctl').map((c) => c.join(' '))).toEqual(['systemctl enable state-overlay@opt.service']);
  });

  it('uses only commands and options the installed program has', async () => {
    const global = await helpOf([]);
    for (const argv of runsOf(image, 'state-overlay')) {
      const words = argv.slice(1);
      const cmdAt = words.findIndex((w, i) => !w.startsWith('-') && words[i - 1] !== '--root');
      const command = words[cmdAt]!;
      expect(global.commands).toContain(command);
      const own = await helpOf([command]);
      for (const w of words.filter((x) => x.startsWith('-'))) expect([...global.options, ...own.options]).toContain(w);
    }
  });

  it('ships the manifest of /opt with the installed launcher, leaving /opt as it was', async () => {
    const [argv] = runsOf(image, 'state-overlay');
    const args = argv!.slice(1).map((w, i, all) => (all[i - 1] === '--root' ? imageRoot : w));
    const r = await execa(launcher, ['-q', ...args], { env: bareEnv, extendEnv: false });
    const manifest = path.join(imageRoot, 'usr/lib/state-overlay/opt.manifest');
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^${manifest}: ${optBefore.size} entries, \\d+ bytes hashed, 0 digests reused \\(\\d+ ms\\)$`));
    const generation = /^generation (manifest:[0-9a-f]{64})$/m.exec(r.stdout)?.[1];
    expect(generation).toBeDefined();
    expect(snapshot(path.join(imageRoot, 'opt'))).toEqual(optBefore);

    // A host booted from this image takes its generation from the shipped manifest: no walk of its base.
    const s = await execa(launcher, ['--root', imageRoot, '-q', 'status', 'opt', '--json'], { env: bareEnv, extendEnv: false });
    const ov = (JSON.parse(s.stdout) as { overlays: Array<{ generation: { current: string; source: string } }> }).overlays[0]!;
    expect(ov.generation).toMatchObject({ current: generation, source: 'manifest' });
  });

  it('enables the installed unit with systemctl', async () => {
    for (const argv of runsOf(image, 'systemctl')) {
      await execa('systemctl', ['--root', imageRoot, ...argv.slice(1)], { env: bareEnv, extendEnv: false });
    }
    const wants = path.join(imageRoot, 'etc/systemd/system/local-fs.target.wants/state-overlay@opt.service');
    expect(fs.readlinkSync(wants)).toBe('/usr/lib/systemd/system/state-overlay@.service');
  });

  it('leaves exactly the installed files, the shipped manifest and the enablement in the image root', () => {
    const units = fs.readdirSync(path.join(REPO, 'units')).filter((f) => f.endsWith('.service'));
    const expected = [
      'etc/systemd/system/local-fs.target.wants/state-overlay@opt.service',
      'usr/bin/state-overlay',
      'usr/lib/state-overlay/opt.manifest',
      'usr/lib/state-overlay/state-overlay',
      'usr/lib/state-overlay/xattr.node',
      'usr/lib/state-overlay/syscalls.node',
      'usr/lib/systemd/system-preset/80-state-overlay.preset',
      'usr/share/bash-completion/completions/state-overlay',
      'usr/share/fish/vendor_completions.d/state-overlay.fish',
      'usr/share/licenses/state-overlay/THIRD-PARTY-NOTICES',
      'usr/share/man/man5/state-overlay.conf.5.gz',
      'usr/share/man/man8/state-overlay.8.gz',
      'usr/share/man/man8/state-overlay@.service.8.gz',
      'usr/share/zsh/site-functions/_state-overlay',
      ...units.map((u) => `usr/lib/systemd/system/${u}`),
    ].sort();
    expect(files(imageRoot).filter((f) => !f.startsWith('opt/') && !f.startsWith(`${RPMDB.slice(1)}/`)).sort()).toEqual(expected);
    // Nothing else either: no state or run directories made at build time.
    expect(fs.readdirSync(imageRoot).sort()).toEqual(['etc', 'opt', 'usr']);
    expect(fs.readdirSync(path.join(imageRoot, 'etc')).sort()).toEqual(['systemd']);
    expect(snapshot(path.join(imageRoot, 'opt'))).toEqual(optBefore);
  });
});

describe('examples/README.md: the plain-host install', () => {
  const block = /## Plain Debian or Fedora host[\s\S]*?```sh\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(REPO, 'examples/README.md'), 'utf8'))![1]!;
  const commands = block.trim().split('\n').map((l) => l.trim().split(/\s+/));
  let host: string;

  beforeAll(() => {
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'so-plain-host-'));
  });
  afterAll(() => fs.rmSync(host, { recursive: true, force: true }));

  it('installs under /usr/local, with the unit running the /usr/local launcher, and enables it', async () => {
    const install = commands.find((c) => c[0] === 'npm' && c[2] === 'install-system')!;
    expect(install.join(' ')).toBe('npm run install-system -- --destdir / --prefix /usr/local');
    const args = install.slice(1).map((w, i, all) => (all[i - 1] === '--destdir' ? host : w));
    await execa('npm', args, { cwd: REPO, env: { ...process.env, npm_config_loglevel: 'error' } });

    const unit = fs.readFileSync(path.join(host, 'usr/local/lib/systemd/system/state-overlay@.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/state-overlay run %i$/m);
    const v = await execa(path.join(host, 'usr/local/bin/state-overlay'), ['--version'], { env: bareEnv, extendEnv: false });
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+$/);

    const enable = commands.find((c) => c[0] === 'systemctl' && c[1] === 'enable')!;
    expect(enable).toEqual(['systemctl', 'enable', '--now', 'state-overlay@opt.service']);
    await execa('systemctl', ['--root', host, 'enable', enable[3]!], { env: bareEnv, extendEnv: false });
    expect(fs.readlinkSync(path.join(host, 'etc/systemd/system/local-fs.target.wants/state-overlay@opt.service'))).toBe(
      '/usr/local/lib/systemd/system/state-overlay@.service',
    );
  }, 300_000);
});
