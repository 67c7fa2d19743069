// A power cut while the background indexing runs, after READY=1: the boot that follows finds the
// reconcile done and recorded, indexes the base again, and every entry the host wrote is intact.
import { BULK, bigV1, bigV2 } from './bases.js';
import type { Scenario } from '../lib/scenario.js';

const STATE_FILES = 100;
const INDEXING = '@@VM indexing-in-flight@@';

/** Announces on the console, for the host to cut power, once the unit reports it is indexing. */
const WATCH_SCRIPT = `until [[ $(systemctl show -P StatusText state-overlay@opt.service) == 'indexing the base'* ]]; do sleep 0.05; done
# No sync: the cut takes whatever the page cache holds.
echo '${INDEXING}' > /dev/ttyS0
`;

const WATCHER = `[Unit]
Description=VM suite: report the background indexing in flight, once
DefaultDependencies=no
RequiresMountsFor=/var/lib/vm-test
ConditionPathExists=/var/lib/vm-test/cut-indexing
[Service]
ExecStartPre=/bin/rm /var/lib/vm-test/cut-indexing
ExecStart=/bin/bash /var/lib/vm-test/index-watch.sh
[Install]
WantedBy=local-fs.target
`;

export default {
  name: 'index-cut',
  bases: { v1: bigV1, v2: bigV2 },
  phases: [
    {
      name: `base v1 of ${BULK} files, ${STATE_FILES} state files, a watcher for the next boot`,
      base: 'v1',
      timeoutMs: 900_000,
      script: `mkdir -p /etc/state-overlay
printf '[Overlay]\\nBase=/usr/lib/opt\\n' > /etc/state-overlay/opt.conf
check 'systemctl enable --now' systemctl enable --now state-overlay@opt.service
set -e
mkdir -p /opt/big/state
for i in $(seq ${STATE_FILES}); do echo "state $i" > /opt/big/state/s$i; done
echo 'edited' > /opt/big/files/f00001.txt
save_upper_sums
cat > /var/lib/vm-test/index-watch.sh <<'SCRIPT'
${WATCH_SCRIPT}SCRIPT
cat > /etc/systemd/system/vm-index-watch.service <<'UNIT'
${WATCHER}UNIT
systemctl enable vm-index-watch.service
touch /var/lib/vm-test/cut-indexing
set +e
wait_manifest opt
check 'this boot indexed the base again (the cut came before the manifest was recorded)' test -n "$(journal_events state-overlay@opt.service run.manifest)"
finish`,
    },
    // The indexing runs after READY=1, so after multi-user.target too: the agent waits for the cut.
    { name: 'boot base v2, power cut while indexing it', base: 'v2', cutOn: INDEXING, timeoutMs: 900_000, script: 'sleep 600\nfinish' },
    {
      name: 'boot v2 again: reconciled before the cut, indexed again now, nothing lost',
      base: 'v2',
      timeoutMs: 900_000,
      script: `
expect '/opt shows v2' "$(content /opt/big/VERSION)" 2
expect 'no reconcile this boot: the cut came after the reconcile was recorded' "$(journal_events state-overlay@opt.service reconcile.start | wc -l)" 0
wait_manifest opt
check 'this boot indexed the base again (the cut came before the manifest was recorded)' test -n "$(journal_events state-overlay@opt.service run.manifest)"
expect 'no journal left' "$(ls $STATE_OPT | grep -c '^journal')" 0
expect 'the shadow of a changed file went to backups' "$(content $UPPER_OPT/big/files/f00001.txt)" '<missing>'
expect_upper_kept
finish`,
    },
  ],
} satisfies Scenario;
