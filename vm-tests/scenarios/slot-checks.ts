// What every boot of an image-built root (lib/slot-image.ts) shows, whatever its root filesystem.
import type { SlotSpec } from '../lib/slot-image.js';

export const UNIT = 'state-overlay@opt.service';

/** What every boot of a slot shows: the root read-only, the slot's build and /opt, and no hashing of the base. */
export const SLOT_BOOT = (slot: SlotSpec, version: string) => `
expect 'the root is mounted read-only' "$(findmnt -n -o OPTIONS --mountpoint / | cut -d, -f1)" ro
check 'nothing writes the root' bash -c '! touch /.vm-probe 2>/dev/null'
expect "the slot's build of the tool" "$(state-overlay --version)" '${slot.version}'
expect 'the unit is enabled by the image' "$(systemctl is-enabled ${UNIT})" enabled
check 'and active' systemctl is-active --quiet ${UNIT}
check '/opt is an overlay' is_mounted_overlay /opt
expect "the slot's own /opt shows through" "$(content /opt/app/VERSION)" ${version}
wait_manifest opt
check 'the image ships the manifest of /opt' test -s /usr/lib/state-overlay/opt.manifest
# A version 2 manifest's id: the sha256 of every byte before its trailer's digest (the last 32 bytes), which it records.
shipped=manifest:$(head -c -32 /usr/lib/state-overlay/opt.manifest | sha256sum | cut -d' ' -f1)
expect "the shipped manifest's trailer records that digest" "manifest:$(tail -c 32 /usr/lib/state-overlay/opt.manifest | od -An -v -tx1 | tr -d ' \\n')" "$shipped"
expect "the boot's generation is its shipped manifest" "$(journal_field ${UNIT} generation STATE_OVERLAY_CURRENT)" "$shipped"
expect 'the manifest recorded is the shipped one, copied: no entry indexed' "$(journal_field ${UNIT} run.manifest STATE_OVERLAY_ENTRIES)" 0
expect 'no indexing this boot' "$(journalctl -b STATE_OVERLAY_EVENT=index.start -o cat --no-pager | wc -l)" 0
expect 'state.json records that generation' "$(json_get $STATE_OPT/state.json generation)" "$shipped"
`;
