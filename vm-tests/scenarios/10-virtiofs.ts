// A microVM's base: a host directory shared read-only over virtio-fs (QEMU's vhost-user-fs and
// virtiofsd) is the lower of /opt, with a persistent upper on /var, and of /srv/app with Mode=ephemeral
// (a tmpfs upper). The host changes the directory between boots, in place: an unchanged share
// reconciles nothing, a changed one is reconciled by the decision table on /opt, and /srv/app starts
// from the share's current content every boot.
import type { Scenario } from '../lib/scenario.js';
import { SHARE_TAG } from '../lib/share.js';
import { v1, v2 } from './bases.js';
import { ALL_KEPT, ENABLE_BOTH, OPT_CONF, UPDATED_V2, WRITE_EVERYTHING } from './host-changes.js';

/** Where the guest mounts the share (the base disk stays at /usr/lib/opt, with v1 on it throughout). */
const SHARE = '/usr/lib/virtiofs';

/** The share in fstab as an image would mount it: read-only, before both overlays (x-systemd.before). */
const MOUNT_SHARE = `
echo '${SHARE_TAG} ${SHARE} virtiofs ro,nofail,x-systemd.before=state-overlay@opt.service,x-systemd.before=state-overlay@srv-app.service 0 0' >> /etc/fstab
mkdir -p ${SHARE} /srv/app
systemctl daemon-reload
check 'mount the share' systemctl start usr-lib-virtiofs.mount
cat > /etc/state-overlay/srv-app.conf <<'CONF'
[Overlay]
Base=${SHARE}
Mode=ephemeral
CONF
`;

/** The share as the guest sees it: virtio-fs, read-only even to root, its lower under both overlays. */
const SHARE_SEEN = (version: string) => `
expect 'the share is mounted as virtio-fs' "$(findmnt -n -o FSTYPE --mountpoint ${SHARE})" virtiofs
check 'the host refuses writes to it (EROFS)' bash -c '! touch ${SHARE}/probe 2> /tmp/erofs.out && grep -q "Read-only file system" /tmp/erofs.out'
expect 'the share holds ${version}' "$(content ${SHARE}/app/VERSION)" ${version}
expect 'the base disk still holds v1' "$(content /usr/lib/opt/app/VERSION)" 1
for mp in /opt /srv/app; do
  check "$mp is an overlay" is_mounted_overlay $mp
  # its lowerdir is the unit's private bind of the base, which is the share
  lower=$(findmnt -n -o FS-OPTIONS --mountpoint $mp | tr ',' '\\n' | sed -n 's/^lowerdir=//p')
  expect "$mp's lower ($lower) is the virtio-fs share" "$(findmnt -n -o FSTYPE,SOURCE --mountpoint "$lower" | tr -s ' ')" "virtiofs ${SHARE_TAG}"
done
check 'the share was mounted before the overlay of /opt' test "$(active_enter usr-lib-virtiofs.mount)" -gt 0 -a "$(active_enter usr-lib-virtiofs.mount)" -le "$(systemctl show -P InactiveExitTimestampMonotonic state-overlay@opt.service)"
`;

/** /srv/app (ephemeral) shows the share as it is now, nothing of the boot before. */
const EPHEMERAL_FRESH = (version: string) => `
check 'srv-app is active' systemctl is-active --quiet state-overlay@srv-app.service
expect 'srv-app: the upper is on tmpfs' "$(findmnt -n -o FSTYPE --target /run/state-overlay/srv-app/upper)" tmpfs
expect 'srv-app: the upper starts empty' "$(ls -A /run/state-overlay/srv-app/upper | wc -l)" 0
expect 'srv-app: shows the share now (${version})' "$(content /srv/app/app/VERSION)" ${version}
expect 'srv-app: the scratch file of the last boot is gone' "$(content /srv/app/app/scratch)" '<missing>'
expect 'srv-app: the edit of the last boot is gone' "$(content /srv/app/app/bin/tool)" "$(content ${SHARE}/app/bin/tool)"
expect 'srv-app: the deletion of the last boot is undone' "$(content /srv/app/app/share/data.txt)" data
`;

/** Changes to /srv/app this boot; the next boot must show none of them. */
const EPHEMERAL_WRITES = `
echo scratch > /srv/app/app/scratch
echo 'my tool' > /srv/app/app/bin/tool
rm /srv/app/app/share/data.txt
expect 'srv-app: writes land in the tmpfs upper' "$(content /run/state-overlay/srv-app/upper/app/scratch)" scratch
`;

/**
 * The kernel's answer to each overlay feature over a virtio-fs lower, as notes for the README (not
 * asserted: they are the kernel's business). The product's own set is the first.
 */
const OVERLAY_PROBES = `
probe() {
  local d; d=$(mktemp -d /var/tmp/probe.XXXX); mkdir $d/u $d/w $d/m
  dmesg -C
  if mount -t overlay -o "lowerdir=${SHARE},upperdir=$d/u,workdir=$d/w,$1" probe $d/m 2> $d/err; then r=mounts; umount $d/m; else r="fails ($(tr -d '\\n' < $d/err))"; fi
  note "overlay over virtio-fs, $1: $r; kernel: $(dmesg | grep -o 'overlayfs: .*' | tr '\\n' ' ')"
  rm -rf $d
}
probe index=off,metacopy=off,redirect_dir=off,xino=off
probe index=on
probe index=on,nfs_export=on
probe xino=on
probe metacopy=on
note "guest kernel $(uname -r)"
# index=on records the lower's file handles in the upper; the same upper mounted again on the next boot
# (a new virtiofsd) shows whether they survive one
d=/var/lib/vm-test/index-probe; mkdir -p $d/u $d/w $d/m
mount -t overlay -o "lowerdir=${SHARE},upperdir=$d/u,workdir=$d/w,index=on" probe $d/m && echo copied >> $d/m/app/share/data.txt && umount $d/m
note "index=on upper, mounted again in the same session: $(mount -t overlay -o "lowerdir=${SHARE},upperdir=$d/u,workdir=$d/w,index=on" probe $d/m 2>&1 && umount $d/m && echo mounts)"
note "getfattr on the share: $(getfattr -d -m - ${SHARE}/app/bin/tool 2>&1 | head -1)"
note "systemd orders the share mount: After=$(systemctl show -P After usr-lib-virtiofs.mount | tr ' ' '\\n' | grep -E 'remote|network|local-fs-pre' | tr '\\n' ' ')"
`;

export default {
  name: 'virtiofs',
  bases: { v1, v2 },
  phases: [
    {
      name: 'share v1: both overlays over the virtio-fs share, state and every kind of shadow written',
      base: 'v1',
      share: 'v1',
      script: `${OPT_CONF('', SHARE)}${MOUNT_SHARE}
check 'enable srv-app' systemctl enable --now state-overlay@srv-app.service
${ENABLE_BOTH}${SHARE_SEEN('1')}${OVERLAY_PROBES}${EPHEMERAL_WRITES}${WRITE_EVERYTHING}${ALL_KEPT}
wait_manifest opt
finish`,
    },
    {
      name: 'share unchanged: no reconcile (the stat walk of virtio-fs is stable), srv-app fresh',
      base: 'v1',
      share: 'v1',
      script: `${SHARE_SEEN('1')}${ALL_KEPT}
expect 'no reconcile: the share did not change' "$(journal_events state-overlay@opt.service reconcile.start | wc -l)" 0
expect 'no backups' "$(ls $STATE_OPT/backups 2>/dev/null | wc -l)" 0
d=/var/lib/vm-test/index-probe; dmesg -C
note "index=on upper of the last boot, mounted again after a virtiofsd restart: $(mount -t overlay -o "lowerdir=${SHARE},upperdir=$d/u,workdir=$d/w,index=on" probe $d/m 2>&1 && umount $d/m && echo mounts); kernel: $(dmesg | grep -o 'overlayfs: .*' | tr '\\n' ' ')"
note "... with index=off: $(mount -t overlay -o "lowerdir=${SHARE},upperdir=$d/u,workdir=$d/w,index=off" probe $d/m 2>&1 && cat $d/m/app/share/data.txt | tr '\\n' ' ' && umount $d/m)"
${EPHEMERAL_FRESH('1')}${EPHEMERAL_WRITES}
finish`,
    },
    {
      name: 'the host changed the share to v2: /opt reconciled by the decision table, srv-app shows v2',
      base: 'v1',
      share: 'v2',
      script: `${SHARE_SEEN('2')}${UPDATED_V2(SHARE)}${EPHEMERAL_FRESH('2')}
expect 'srv-app: what v2 removed is gone' "$(content /srv/app/app/lib/libold.so)" '<missing>'
expect 'srv-app: what v2 added shows' "$(content /srv/app/app/newpath)" 'shipped by v2'
finish`,
    },
  ],
} satisfies Scenario;
