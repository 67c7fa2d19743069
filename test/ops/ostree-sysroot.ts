// A real ostree sysroot made by the ostree tool in a scratch directory (init-fs, os-init, commits,
// `admin deploy`), and a host booted from one of its deployments the way ostree-prepare-root leaves a
// booted system: / the deployment's checkout, /sysroot the physical root, /var the stateroot's var,
// /run/ostree-booted, and the boot loader entry's `ostree=` argument on the kernel command line.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run, tryRun } from '../../src/exec.js';
import { writeTree, type Spec } from './scratch.js';

export const OS = 'debian';

/** The ostree tool's stdout, trimmed. */
export const ostree = (...args: string[]): string => ostreeOut(...args).trim();
const ostreeOut = (...args: string[]): string => execFileSync('ostree', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
export const repoArg = (sysroot: string): string => `--repo=${sysroot}/ostree/repo`;

/** A fresh sysroot (`ostree admin init-fs`) with the stateroot OS. */
export function initSysroot(sysroot: string): void {
  fs.mkdirSync(sysroot, { recursive: true });
  ostree('admin', 'init-fs', sysroot);
  ostree('admin', 'os-init', OS, `--sysroot=${sysroot}`);
}

/**
 * Commits an OS tree on branch: what `admin deploy` needs (a kernel and initramfs, /usr/etc) and the
 * empty mountpoints of a booted root (/sysroot, /proc, /run, /var, the /ostree link), then `tree`.
 * Returns the commit's checksum.
 */
export async function commitTree(sysroot: string, branch: string, tree: Record<string, Spec>): Promise<string> {
  const dir = fs.mkdtempSync(path.join(path.dirname(sysroot), 'commit-'));
  try {
    // The image's / as an image has it, not mkdtemp's 0700.
    fs.chmodSync(dir, 0o755);
    await writeTree(dir, {
      'usr/etc/os-release': `ID=${OS}\n`,
      'usr/lib/modules/6.1.0/vmlinuz': 'kernel\n',
      'usr/lib/modules/6.1.0/initramfs.img': 'initramfs\n',
      sysroot: { dir: true },
      proc: { dir: true },
      run: { dir: true },
      var: { dir: true },
      ostree: { link: 'sysroot/ostree' },
      ...tree,
    });
    return ostree(repoArg(sysroot), 'commit', '-b', branch, `--tree=dir=${dir}`);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

/** `ostree admin deploy REF`: the new deployment becomes the default, the booted one (if any) stays second. */
export const deploy = (sysroot: string, ref: string): string => ostree('admin', 'deploy', `--sysroot=${sysroot}`, `--os=${OS}`, ref);

export interface StatusLine {
  readonly osname: string;
  readonly checksum: string;
  readonly serial: number;
  /** `*`: booted; ostree prints it only for the sysroot the system runs from, never for one given by --sysroot. */
  readonly booted: boolean;
  /** `(pending)`, `(rollback)`, `(staged)`: likewise only when booted; '' otherwise. */
  readonly mark: string;
}

/**
 * `ostree admin status --sysroot` as 2022.7 prints it, one line per deployment (`  OS CHECKSUM.SERIAL`,
 * then indented origin lines), in boot order: the first is the default, what the next boot runs. On a
 * sysroot the system is not booted from that order is all it says: no `*`, no `(pending)`.
 */
export function adminStatus(sysroot: string): StatusLine[] {
  const out = ostreeOut('admin', 'status', `--sysroot=${sysroot}`);
  const lines: StatusLine[] = [];
  for (const line of out.replace(/\n$/, '').split('\n')) {
    const m = /^([* ]) (\S+) ([0-9a-f]{64})\.(\d+)(?: \((\w+)\))?$/.exec(line);
    if (m) lines.push({ booted: m[1] === '*', osname: m[2]!, checksum: m[3]!, serial: Number(m[4]), mark: m[5] ?? '' });
    else if (!/^ {4}\S/.test(line)) throw new Error(`ostree admin status: unexpected line ${JSON.stringify(line)}`);
  }
  return lines;
}

export interface LoaderEntry {
  readonly file: string;
  readonly version: number;
  /** The `options` line: the kernel arguments the boot loader passes, `ostree=/ostree/boot.N/OS/BOOTCSUM/SERIAL` among them. */
  readonly options: string;
}

/** The BLS entries ostree wrote in /boot/loader/entries, the boot loader's default (highest version) first. */
export function loaderEntries(sysroot: string): LoaderEntry[] {
  const dir = path.join(sysroot, 'boot/loader/entries');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.conf'))
    .map((f) => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const field = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(text)?.[1] ?? '';
      return { file: f, version: Number(field('version')), options: field('options') };
    })
    .sort((a, b) => b.version - a.version);
}

/**
 * Boots host (an empty directory) from the loader entry, as the initramfs does: the deployment the
 * entry's `ostree=` names (resolved by the kernel's own path walk, from the physical root) bind-mounted
 * as /, the physical root on /sysroot, the stateroot's var on /var, a tmpfs /run with ostree-booted,
 * and /proc/cmdline holding the entry's options. Returns the deployment's directory.
 */
export async function bootHost(host: string, sysroot: string, entry: LoaderEntry): Promise<string> {
  const karg = /(?:^| )ostree=(\S+)/.exec(entry.options)?.[1];
  if (karg === undefined) throw new Error(`${entry.file}: no ostree= in ${entry.options}`);
  const deployment = fs.realpathSync(path.join(sysroot, karg));
  fs.mkdirSync(host, { recursive: true });
  await run('mount', ['--bind', deployment, host]);
  await run('mount', ['--bind', sysroot, path.join(host, 'sysroot')]);
  await run('mount', ['--bind', path.join(sysroot, 'ostree/deploy', OS, 'var'), path.join(host, 'var')]);
  await run('mount', ['-t', 'tmpfs', 'run', path.join(host, 'run')]);
  fs.writeFileSync(path.join(host, 'run/ostree-booted'), '');
  // The kernel's /proc/cmdline, as a file: the product reads it under --root.
  await run('mount', ['-t', 'tmpfs', 'proc', path.join(host, 'proc')]);
  fs.writeFileSync(path.join(host, 'proc/cmdline'), `BOOT_IMAGE=(hd0,gpt2)/boot/vmlinuz rw ${entry.options}\n`);
  return deployment;
}

/** Shuts the host down: everything mounted on or below it, the product's overlays included. */
export const shutDown = (host: string): Promise<unknown> => tryRun('umount', ['-R', host]);

/** ostree makes each deployment's root immutable (chattr +i): undone so that the scratch tree can go. */
export async function unlockDeployments(sysroot: string): Promise<void> {
  const deploys = path.join(sysroot, 'ostree/deploy', OS, 'deploy');
  if (!fs.existsSync(deploys)) return;
  for (const d of fs.readdirSync(deploys)) if (!d.endsWith('.origin')) await tryRun('chattr', ['-i', path.join(deploys, d)]);
}

/** Mounts an overlay exactly as `ostree admin state-overlay` does: lowerdir, upperdir and workdir, nothing else (ot-admin-builtin-state-overlay.c). */
export const mountOstreeOverlay = (lower: string, upper: string, work: string, target: string): Promise<unknown> =>
  run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, target]);
