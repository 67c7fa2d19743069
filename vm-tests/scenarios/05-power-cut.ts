// A power cut (QEMU killed) in the middle of a large reconcile, then a boot that finishes it: every
// upper entry the host wrote is in the upper or in backups, byte for byte, and the result is what an
// uninterrupted reconcile gives (every shadow of a changed file dropped, all state kept).
import { BULK, bigV1, bigV2 } from './bases.js';
import { RECONCILE_IN_FLIGHT, type Scenario } from '../lib/scenario.js';

const STATE_FILES = 200;

/** Announces on the console, for the host to cut power, once the reconcile journal records 512 moves done. */
const WATCH_SCRIPT = `p=/var/lib/state-overlay/opt/journal.progress
# the progress file holds one cumulative count of done actions per durable checkpoint
until n=$(tail -n 1 $p 2>/dev/null) && [ "$n" -ge 512 ] 2>/dev/null; do sleep 0.1; done
# No sync before the cut: what the page cache holds then is lost, as in a real power failure.
echo "$n" > /var/lib/vm-test/cut-at
echo '${RECONCILE_IN_FLIGHT}' > /dev/ttyS0
`;

const WATCHER = `[Unit]
Description=VM suite: report a reconcile in flight, once
DefaultDependencies=no
RequiresMountsFor=/var/lib/vm-test /var/lib/state-overlay
Before=state-overlay@opt.service
ConditionPathExists=!/var/lib/vm-test/cut-at
[Service]
ExecStart=/bin/bash /var/lib/vm-test/cut-watch.sh
[Install]
WantedBy=local-fs.target
`;

export default {
  name: 'power-cut',
  bases: { v1: bigV1, v2: bigV2 },
  phases: [
    {
      name: `shadow ${BULK} base files, add ${STATE_FILES} state files`,
      base: 'v1',
      timeoutMs: 900_000,
      script: `mkdir -p /etc/state-overlay
printf '[Overlay]\\nBase=/usr/lib/opt\\n' > /etc/state-overlay/opt.conf
check 'systemctl enable --now' systemctl enable --now state-overlay@opt.service
set -e
for f in /opt/big/files/*; do echo "local edit of \${f##*/}" >> "$f"; done
mkdir -p /opt/big/state
for i in $(seq ${STATE_FILES}); do echo "state $i" > /opt/big/state/s$i; done
save_upper_sums
cat > /var/lib/vm-test/cut-watch.sh <<'SCRIPT'
${WATCH_SCRIPT}SCRIPT
cat > /etc/systemd/system/vm-cut-watch.service <<'UNIT'
${WATCHER}UNIT
systemctl enable vm-cut-watch.service
sync
set +e
wait_manifest opt
expect 'every edit is in the upper' "$(wc -l < /var/lib/vm-test/upper.sha256)" ${BULK + STATE_FILES}
finish`,
    },
    { name: 'boot base v2, power cut mid-reconcile', base: 'v2', cutOn: RECONCILE_IN_FLIGHT, timeoutMs: 900_000 },
    {
      name: 'boot v2 again: the journal is finished, nothing lost',
      base: 'v2',
      timeoutMs: 900_000,
      script: `
# The watcher's note of the count may itself be lost in the cut; the resume is the proof.
note "power cut after $(cat /var/lib/vm-test/cut-at 2>/dev/null || echo '(not on disk)') of ${BULK} moves"
resume=$(journal_events state-overlay@opt.service reconcile.resume)
check 'this boot resumed the interrupted reconcile (the cut came mid-reconcile)' test -n "$resume"
expect 'no journal left' "$(ls $STATE_OPT | grep -c '^journal')" 0
expect '/opt shows v2' "$(content /opt/big/VERSION)" 2
expect 'v2 shows through every shadowed file' "$(cat /opt/big/files/* | grep -vc '^base v2 ')" 0
expect 'all state kept in the upper' "$(ls $UPPER_OPT/big/state | wc -l)" ${STATE_FILES}
expect 'no shadow left in the upper' "$(ls $UPPER_OPT/big/files 2>/dev/null | wc -l)" 0
expect_upper_kept
expect 'one backup set' "$(ls $STATE_OPT/backups | wc -l)" 1
finish`,
    },
  ],
} satisfies Scenario;
