// Power cuts at the two points of a reconcile that 05 (mid-moves) and 08 (background indexing) leave
// out: right after the new base's sidecars were written, before they were synced and recorded, and
// between the last action and the state.json write. Each cut boot names the point on the kernel command
// line (`systemd.setenv=`: the unit inherits it), where the product stops as a power cut there would
// find it; a watcher sees the stop in the journal and tells the host, which kills QEMU at once, with no
// sync. The second cut comes in the boot that resumes the first one's journal. The boot after them
// finishes it: the decision table's result, the .rpmnew whole, every entry the host wrote kept.
import { AT_FAULT_POINT, type Scenario } from '../lib/scenario.js';
import { v1, v2 } from './bases.js';
import { ALL_KEPT, ENABLE_BOTH, OPT_CONF, UPDATED_V2, WRITE_EVERYTHING } from './host-changes.js';
import { FAULT_ENV } from '../../src/txn/fault.js';

/** Once the unit's start is over: if it stopped at the fault point, says so on the console and holds the boot there. */
const WATCH_SCRIPT = `grep -q '${FAULT_ENV}=' /proc/cmdline || exit 0
journalctl -b -u state-overlay@opt.service -o cat --no-pager | grep -q 'test-only fault point' || exit 0
# No sync: what the page cache holds now is lost, as in a real power failure.
echo '${AT_FAULT_POINT}' > /dev/ttyS0
sleep infinity
`;

// Before multi-user.target: the agent (after it) never ends a cut boot in an orderly power-off.
const WATCHER = `[Unit]
Description=VM suite: report the product stopped at its fault point
DefaultDependencies=no
After=state-overlay@opt.service
Before=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/bash /var/lib/vm-test/fault-watch.sh
[Install]
WantedBy=multi-user.target
`;

const cutAt = (point: string) => [`systemd.setenv=${FAULT_ENV}=${point}`];

/** The checks of the first v2 boot, without "one reconcile ran": this boot finishes the one the cuts began. */
const UPDATED = UPDATED_V2().replace(/^expect 'one reconcile ran at boot'.*\n/m, '');

export default {
  name: 'cut-points',
  bases: { v1, v2 },
  phases: [
    {
      name: 'enable both units, write state and every kind of shadow, install the watcher',
      base: 'v1',
      script: `${OPT_CONF()}${ENABLE_BOTH}${WRITE_EVERYTHING}${ALL_KEPT}wait_manifest opt
save_upper_sums
cat > /var/lib/vm-test/fault-watch.sh <<'SCRIPT'
${WATCH_SCRIPT}SCRIPT
cat > /etc/systemd/system/vm-fault-watch.service <<'UNIT'
${WATCHER}UNIT
check 'the watcher is enabled' systemctl enable vm-fault-watch.service
sync
finish`,
    },
    { name: 'boot base v2, power cut once the sidecars are written', base: 'v2', kernelArgs: cutAt('sidecars'), cutOn: AT_FAULT_POINT },
    { name: 'boot v2 again, resuming: power cut between the last action and state.json', base: 'v2', kernelArgs: cutAt('actions'), cutOn: AT_FAULT_POINT },
    {
      name: 'boot v2: the journal is finished, the decision table holds, nothing lost',
      base: 'v2',
      script: `
resume=$(journal_field state-overlay@opt.service reconcile.resume STATE_OVERLAY_DONE)
total=$(journal_field state-overlay@opt.service reconcile.resume STATE_OVERLAY_TOTAL)
check 'this boot resumed the interrupted reconcile' test -n "$resume"
note "resumed with $resume of $total actions recorded"
expect 'every action was recorded before the second cut (it came after the last one)' "$resume" "$total"
expect 'no journal left' "$(ls $STATE_OPT | grep -c '^journal')" 0
expect 'no temporary file of a sidecar left' "$(find $UPPER_OPT -name '.state-overlay-tmp-*' | wc -l)" 0
${UPDATED}
# Every file the host wrote is in the upper or in the backup set, byte for byte, once (the upper also holds the new .rpmnew).
sums() { (cd "$1" && find . -type f -print0 | xargs -0 -r sha256sum); }
{ sums $UPPER_OPT; for set in $STATE_OPT/backups/*/upper; do sums "$set"; done; } | LC_ALL=C sort > /tmp/now.sha256
LC_ALL=C sort /var/lib/vm-test/upper.sha256 > /tmp/want.sha256
LC_ALL=C comm -23 /tmp/want.sha256 /tmp/now.sha256 | head -n 20
expect 'every file the host wrote kept, byte-identical' "$(LC_ALL=C comm -23 /tmp/want.sha256 /tmp/now.sha256 | wc -l)" 0
expect 'none of them twice' "$(uniq -d /tmp/now.sha256 | wc -l)" 0
finish`,
    },
  ],
} satisfies Scenario;
