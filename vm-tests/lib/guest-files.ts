// Files the image adds to the Debian tree: mounts, the base disk, journald settings, the agent.
import fs from 'node:fs';
import path from 'node:path';
import { VM_TESTS } from './cache.js';

export const LABEL = { root: 'so-root', var: 'so-var', base: 'so-base' } as const;

/**
 * The base of /opt is its own disk, mounted read-only at /usr/lib/opt (state-overlay's `Base=`):
 * booting another base disk is the OS update. /var is its own disk as on image-based hosts, so the
 * unit's ordering after /var is real. `x-systemd.before` orders the base mount before the overlay.
 */
export const BASE_PATH = '/usr/lib/opt';

export const FSTAB = `# VM suite guest
LABEL=${LABEL.root} / ext4 rw,errors=remount-ro 0 1
LABEL=${LABEL.var} /var ext4 rw 0 2
LABEL=${LABEL.base} ${BASE_PATH} ext4 ro,nofail,x-systemd.before=state-overlay@opt.service 0 0
`;

/** Journal on the persistent /var disk; warnings and worse also on the serial console. */
export const JOURNALD = `[Journal]
Storage=persistent
ForwardToConsole=yes
TTYPath=/dev/ttyS0
MaxLevelConsole=warning
`;

/** Content the image ships in /usr/local, the base of the `usr-local` overlay (Base= unset). */
export const USR_LOCAL_BASE: Readonly<Record<string, string>> = {
  'usr/local/bin/site-tool': '#!/bin/sh\necho site-tool v1\n',
  'usr/local/etc/site.conf': 'site=1\n',
  'usr/local/share/site/readme.txt': 'shipped in the image\n',
};

export interface GuestFile {
  readonly path: string;
  readonly data: string | Buffer;
  readonly mode: number;
}

/** Deliberately broken products, to show the suite fails when the product does not do its job. */
const BREAK_MODES = ['reconcile', 'generation', 'unshipped', 'stacking', 'ordering', 'force', 'journal'] as const;
type BreakMode = (typeof BREAK_MODES)[number];

/** `VM_BREAK=`, checked: undefined when unset. */
export function breakMode(): BreakMode | undefined {
  const mode = process.env.VM_BREAK;
  if (mode === undefined || mode === '') return undefined;
  if (!(BREAK_MODES as readonly string[]).includes(mode)) throw new Error(`VM_BREAK=${mode}: expected ${BREAK_MODES.join(', ')}`);
  return mode as BreakMode;
}

/** Vendor drop-ins for /opt that break the guest image's product on purpose, by `VM_BREAK` mode. */
const BREAKS: Readonly<Partial<Record<BreakMode, string>>> = {
  // reconciling off: an update leaves every shadow in place, and no manifest is recorded (01-update and 10-virtiofs fail)
  reconcile: '[Overlay]\nReconcile=none\n',
  // a generation that moves on every boot, as the share's device number did (10-virtiofs fails)
  generation: '[Overlay]\nGeneration=command:/bin/cat /proc/sys/kernel/random/boot_id\n',
};

/** Drop-ins for the unit of /opt (state-overlay@opt.service) that break it on purpose, by `VM_BREAK` mode. */
const UNIT_BREAKS: Readonly<Partial<Record<BreakMode, string>>> = {
  // the unit counts as started once the program is exec'd, before the mount: a service ordered after it
  // sees the bare /opt (07-systemd fails at its reboot)
  ordering: '[Service]\nType=exec\n',
  // the empty-base guard overridden: the boot without the base volume reconciles against an empty base
  // and mounts (07-systemd fails at its third boot: the unit is active, /opt overlaid)
  force: '[Service]\nExecStart=\nExecStart=/usr/bin/state-overlay run %i --force\n',
  // a product that cleans up after a cut instead of resuming: the interrupted reconcile's journal and the
  // backup set it was filling are gone at the next start (05-power-cut, 08-index-cut, 12-cut-points fail)
  journal: "[Service]\nExecStartPre=/bin/sh -c 'rm -rf /var/lib/state-overlay/opt/journal* /var/lib/state-overlay/opt/backups'\n",
};

/**
 * `VM_BREAK=reconcile` or `generation` builds a deliberately broken guest image: a vendor drop-in from BREAKS
 * for /opt; `ordering`, `force` and `journal` a drop-in from UNIT_BREAKS for its unit. (`VM_BREAK=unshipped`
 * breaks the A/B images instead: lib/slot-image.ts; `stacking` the composefs-like root of 11-composefs-root.)
 */
export function breakage(): GuestFile[] {
  const mode = breakMode();
  if (mode === undefined) return [];
  const conf = BREAKS[mode];
  const unit = UNIT_BREAKS[mode];
  return [
    ...(conf === undefined ? [] : [{ path: 'usr/lib/state-overlay/opt.conf.d/zz-vm-break.conf', data: conf, mode: 0o644 }]),
    ...(unit === undefined ? [] : [{ path: 'usr/lib/systemd/system/state-overlay@opt.service.d/zz-vm-break.conf', data: unit, mode: 0o644 }]),
  ];
}

/** What every image needs to boot into the agent: the host name, journald's settings and the agent. */
export function agentFiles(): GuestFile[] {
  const read = (f: string) => fs.readFileSync(path.join(VM_TESTS, 'guest', f));
  return [
    { path: 'etc/hostname', data: 'so-guest\n', mode: 0o644 },
    { path: 'etc/systemd/journald.conf.d/vm-tests.conf', data: JOURNALD, mode: 0o644 },
    { path: 'usr/lib/vm-agent/agent.sh', data: read('agent.sh'), mode: 0o755 },
    { path: 'usr/lib/systemd/system/vm-agent.service', data: read('vm-agent.service'), mode: 0o644 },
  ];
}

export function guestFiles(): GuestFile[] {
  return [
    ...breakage(),
    { path: 'etc/fstab', data: FSTAB, mode: 0o644 },
    ...agentFiles(),
    ...Object.entries(USR_LOCAL_BASE).map(([p, data]) => ({ path: p, data, mode: p.includes('/bin/') ? 0o755 : 0o644 })),
  ];
}

export function writeFiles(root: string, files: readonly GuestFile[]): void {
  for (const f of files) {
    const file = path.join(root, f.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, f.data, { mode: f.mode });
    fs.chmodSync(file, f.mode);
  }
}

/** What `systemctl enable vm-agent.service` would do, without running systemctl on the host. */
export function enableAgent(root: string): void {
  const wants = path.join(root, 'etc/systemd/system/multi-user.target.wants');
  fs.mkdirSync(wants, { recursive: true });
  fs.symlinkSync('/usr/lib/systemd/system/vm-agent.service', path.join(wants, 'vm-agent.service'));
}

export function writeGuestFiles(root: string): void {
  writeFiles(root, guestFiles());
  fs.mkdirSync(path.join(root, BASE_PATH), { recursive: true });
  enableAgent(root);
}

export const filesKey = (files: readonly GuestFile[]): Array<string | Buffer> => files.flatMap((f) => [f.path, String(f.mode), f.data]);

export function guestFilesKey(): Array<string | Buffer> {
  return filesKey(guestFiles());
}
