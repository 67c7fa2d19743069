// A host directory shared with the guest over virtio-fs: QEMU 7.2's own virtiofsd (qemu-system-common),
// started for each boot (it serves one connection and exits when the guest goes), read-only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';

/** Debian 12 ships QEMU's C virtiofsd here; the separate `virtiofsd` package (Rust) is newer than bookworm. */
export const VIRTIOFSD = '/usr/lib/qemu/virtiofsd';

/** The tag the guest mounts: `mount -t virtiofs so-share DIR`. */
export const SHARE_TAG = 'so-share';

export interface Share {
  /** The host directory. */
  readonly dir: string;
  readonly tag: string;
  /** virtiofsd's messages go here. */
  readonly log: string;
}

export interface RunningShare {
  readonly tag: string;
  /** The vhost-user socket QEMU connects to. */
  readonly socket: string;
  /** Ends virtiofsd if it is still running (it exits by itself once QEMU has gone). */
  stop(): Promise<void>;
}

/**
 * Starts virtiofsd for SHARE. The C virtiofsd has no read-only switch, so it runs in a mount namespace
 * of its own where the directory is bind-mounted read-only: the guest's writes fail with EROFS whatever
 * its mount options, and the host's view of the directory stays writable. xattrs stay off (its default):
 * the guest reads no trusted.* of the host's files, so no host overlay xattr can steer the guest's overlay.
 */
export async function startShare(share: Share): Promise<RunningShare> {
  if (!fs.existsSync(VIRTIOFSD)) throw new Error(`${VIRTIOFSD}: not installed (Debian package qemu-system-common)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-share-'));
  // a unix socket path must stay under 108 bytes: not under the (deep) work directory
  const socket = path.join(tmp, `${share.tag}.sock`);
  const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" --socket-path="$3" -o source="$1" -o cache=auto';
  const child: ResultPromise = execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', share.dir, VIRTIOFSD, socket], {
    reject: false, stdin: 'ignore', all: true, stdout: 'pipe', stderr: 'pipe', buffer: false,
  });
  const log = fs.createWriteStream(share.log, { flags: 'a' });
  child.all?.pipe(log);
  let exited = false;
  void child.then(() => (exited = true));
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await child;
    await new Promise<void>((resolve) => log.end(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) {
    if (exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!fs.existsSync(socket)) {
    await stop();
    throw new Error(`virtiofsd for ${share.dir} made no socket within 5 s (${share.log}):\n${fs.readFileSync(share.log, 'utf8').slice(-2000)}`);
  }
  return { tag: share.tag, socket, stop };
}

/**
 * QEMU's arguments for the shares: vhost-user-fs maps guest memory into virtiofsd, so all of the
 * guest's RAM is a shared memfd (one NUMA node backed by it).
 */
export function shareArgs(shares: readonly RunningShare[], memoryMiB: number): string[] {
  if (shares.length === 0) return [];
  return [
    '-object', `memory-backend-memfd,id=mem,size=${memoryMiB}M,share=on`, '-numa', 'node,memdev=mem',
    ...shares.flatMap((s, i) => ['-chardev', `socket,id=vfs${i},path=${s.socket}`, '-device', `vhost-user-fs-pci,chardev=vfs${i},tag=${s.tag}`]),
  ];
}
