// A composefs-like root (lib/composefs.ts), as fedora-bootc and FCOS boot: the image is an erofs disk
// mounted read-only under /run by the initramfs, and / an overlay over an overlay over it, two deep, so a
// state overlay over the root's /opt would be three, which the kernel refuses. The product mounts /opt
// over the root's own layers at opt instead. Boot v1 and change /opt; boot v2, the update, reconciled.
import { LAYERS_DIR } from '../lib/composefs.js';
import { breakMode } from '../lib/guest-files.js';
import { PROJECT_VERSION } from '../lib/image.js';
import type { Scenario } from '../lib/scenario.js';
import type { SlotSpec } from '../lib/slot-image.js';
import { v1, v2 } from './bases.js';
import { OPT_PATHS, OPT_UPDATED, WRITE_OPT } from './host-changes.js';
import { SLOT_BOOT, UNIT } from './slot-checks.js';

// VM_BREAK=stacking: the initramfs detaches the layers once the root is mounted, so the product cannot
// see them, does not flatten, and the kernel refuses its mount.
const detachLayers = breakMode() === 'stacking';
const slot = (opt: SlotSpec['opt']): SlotSpec => ({ version: PROJECT_VERSION, opt, conf: OPT_PATHS, ship: true, composefs: { detachLayers } });
const cfsV1 = slot(v1);
const cfsV2 = slot(v2);

/** The root as the initramfs built it, the kernel's refusal of a plain overlay over its /opt, and the product's mount over its layers. */
const COMPOSEFS_BOOT = `
L=${LAYERS_DIR}
# lowerdir MOUNTPOINT: the first lowerdir of the overlay mounted there
first_lower() { findmnt -n -o FS-OPTIONS --mountpoint "$1" | tr ',' '\\n' | sed -n 's/^lowerdir=//p' | cut -d: -f1; }
expect '/ is the initramfs overlay' "$(findmnt -n -o FSTYPE,SOURCE --mountpoint / | tr -s ' ')" 'overlay composefs'
expect "/'s layers" "$(findmnt -n -o FS-OPTIONS --mountpoint / | tr ',' '\\n' | sed -n 's/^lowerdir=//p')" "$L/lower:$L/empty-root"
depth=0 m=/
while [[ $(findmnt -n -o FSTYPE --mountpoint "$m") == overlay ]]; do depth=$((depth + 1)); m=$(first_lower "$m"); done
expect '/ is two overlays deep' "$depth" 2
expect 'its bottom layer is the erofs disk, read-only' "$(findmnt -n -o FSTYPE,SOURCE,OPTIONS --mountpoint "$m" | tr -s ' ' | cut -d, -f1)" "erofs $(readlink -f /dev/disk/by-id/virtio-soroot) ro"
# The kernel's refusal: a plain overlay over the root's /opt (a bind of / without its submounts) is three deep.
mkdir -p /run/vm-root /tmp/bare/u /tmp/bare/w /tmp/bare/m && mount --bind / /run/vm-root
refused=$(dmesg | grep -c 'overlayfs: maximum fs stacking depth exceeded')
if mount -t overlay -o lowerdir=/run/vm-root/opt,upperdir=/tmp/bare/u,workdir=/tmp/bare/w bare /tmp/bare/m 2> /tmp/bare/err; then
  fail 'a plain overlay over the root /opt mounted'; umount /tmp/bare/m
else
  expect 'a plain overlay over the root /opt fails with EINVAL' "$(grep -c 'wrong fs type, bad option' /tmp/bare/err)" 1
fi
expect 'dmesg says why' "$(( $(dmesg | grep -c 'overlayfs: maximum fs stacking depth exceeded') - refused ))" 1
check 'the same mount over the layer below / (two deep) mounts' mount -t overlay -o lowerdir=$L/lower/opt,upperdir=/tmp/bare/u,workdir=/tmp/bare/w bare /tmp/bare/m
umount /tmp/bare/m; umount /run/vm-root
expect "/opt's lowerdir is the root's layer at opt, not the root" "$(findmnt -n -o FS-OPTIONS --mountpoint /opt | tr ',' '\\n' | sed -n 's/^lowerdir=//p')" "$L/lower/opt"
expect 'the journal records the flattening: the overlay on /' "$(journal_field ${UNIT} mount.done STATE_OVERLAY_FLATTENED_OVERLAY)" /
expect '... and the layers taken instead' "$(journal_field ${UNIT} mount.done STATE_OVERLAY_FLATTENED_LOWERS)" "$L/lower/opt"
`;

export default {
  name: 'composefs-root',
  slots: { 'cfs-v1': cfsV1, 'cfs-v2': cfsV2 },
  phases: [
    {
      name: 'boot v1 on a root two overlays deep over erofs: /opt over the root layers; write state and change /opt',
      slot: 'cfs-v1',
      script: `${SLOT_BOOT(cfsV1, '1')}${COMPOSEFS_BOOT}
${WRITE_OPT}cp $STATE_OPT/state.json /var/lib/vm-test/state-v1.json
finish`,
    },
    {
      name: 'boot v2 (the update): flattened again, the decision table over the new erofs',
      slot: 'cfs-v2',
      script: `${SLOT_BOOT(cfsV2, '2')}${COMPOSEFS_BOOT}
expect 'the reconcile went from v1 to v2' "$(json_get $STATE_OPT/state.json lastReconcile.from) $(json_get $STATE_OPT/state.json lastReconcile.to)" "$(json_get /var/lib/vm-test/state-v1.json generation) $shipped"
${OPT_UPDATED(`${LAYERS_DIR}/erofs/opt`)}finish`,
    },
  ],
} satisfies Scenario;
