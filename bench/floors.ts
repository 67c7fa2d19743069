// The floors: what the same work costs with the plainest standard tools, measured in the same run.
import { execa } from 'execa';
import { timed } from './measure.js';

export const nodeStart = (): Promise<number> => timed(process.execPath, ['-e', '0']);

export interface OverlayDirs {
  readonly lower: string;
  readonly upper: string;
  readonly work: string;
  readonly target: string;
}

/** One umount(8) process taking down the mountpoints given, in order. */
export const bareUmount = (...targets: readonly string[]): Promise<number> => timed('umount', [...targets]);

/** A bare overlay mount and unmount of the same dirs, with the options the product uses. */
export async function bareMount(d: OverlayDirs): Promise<number> {
  const opts = `lowerdir=${d.lower},upperdir=${d.upper},workdir=${d.work},index=off,metacopy=off,redirect_dir=off,xino=off`;
  return (await timed('mount', ['-t', 'overlay', 'overlay', '-o', opts, d.target])) + (await bareUmount(d.target));
}

/** sha256 of every regular file with openssl, two processes at a time (both cores). */
export async function opensslAll(base: string): Promise<number> {
  const t0 = performance.now();
  await execa('find', [base, '-type', 'f', '-print0'], { stdin: 'ignore' }).pipe(
    'xargs', ['-0', '-r', '-P', '2', '-n', '256', 'openssl', 'dgst', '-sha256'], { stdout: 'ignore' });
  return performance.now() - t0;
}

/** One stat per entry, formatted and written: the plainest complete stat walk. */
export const findStat = (base: string): Promise<number> => timed('find', [base, '-printf', '%s %m %U\n']);

/** A find walk of the upper plus one lstat of each entry's counterpart in the base (absent ones included). */
export async function upperWalk(upper: string, base: string): Promise<number> {
  const t0 = performance.now();
  await execa('find', [upper, '-mindepth', '1', '-printf', '%P\\0'], { stdin: 'ignore' }).pipe(
    'xargs', ['-0', '-r', 'stat', '--printf='], { cwd: base, stdout: 'ignore', stderr: 'ignore', reject: false });
  return performance.now() - t0;
}
