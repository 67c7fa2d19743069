// `systemctl reload` after a live base change: the unit re-checks the base and, the mount not being
// busy, unmounts, reconciles and mounts again; a busy mount is left alone.
import type { Scenario } from '../lib/scenario.js';
import { v1 } from './bases.js';

export default {
  name: 'reload',
  bases: { v1 },
  phases: [
    {
      name: 'live base change, then systemctl reload',
      base: 'v1',
      script: `
STATE_APP=/var/lib/state-overlay/srv-app
CAP_NET_RAW=0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=
fcap() { getfattr --absolute-names -e base64 -n security.capability "$1" | sed -n 's/^security.capability=//p'; }
mkdir -p /var/lib/vm-test/appbase/etc /srv/app /etc/state-overlay
echo 'a v1' > /var/lib/vm-test/appbase/a.txt
echo 'b v1' > /var/lib/vm-test/appbase/b.txt
echo 'conf v1' > /var/lib/vm-test/appbase/etc/app.conf
cat > /etc/state-overlay/srv-app.conf <<'CONF'
[Overlay]
Base=/var/lib/vm-test/appbase
CONF
check 'systemctl enable --now state-overlay@srv-app' systemctl enable --now state-overlay@srv-app.service
check '/srv/app is an overlay' is_mounted_overlay /srv/app
echo 'my a' > /srv/app/a.txt
echo 'my b' > /srv/app/b.txt
echo 'state' > /srv/app/state.txt
# the manifest of the first base is built after the mount: the update must come after it
wait_manifest srv-app
# backups on another filesystem than the upper: moves into them are copies (cp -a), not renames
mkdir -p $STATE_APP/backups
mount -t tmpfs -o mode=0700 so-backups $STATE_APP/backups
chown 1234:5678 /srv/app/a.txt
chmod 4750 /srv/app/a.txt
setfattr -n security.capability -v $CAP_NET_RAW /srv/app/a.txt
# the base changes while mounted (a live update of the image)
echo 'a v2, longer' > /var/lib/vm-test/appbase/a.txt
echo 'new in v2' > /var/lib/vm-test/appbase/new.txt
sync
# busy: a process works inside the mount, so the reload must not pull it away
(cd /srv/app && exec sleep 60) &
busy=$!
sleep 1
systemctl reload state-overlay@srv-app.service; echo "reload while busy: exit $?"
check 'the mount stayed' is_mounted_overlay /srv/app
expect 'the busy reload was deferred' "$(journal_events state-overlay@srv-app.service watch.deferred | wc -l)" 1
expect 'edits untouched while busy' "$(content /srv/app/a.txt)" 'my a'
kill $busy; wait $busy 2>/dev/null
check 'systemctl reload' systemctl reload state-overlay@srv-app.service
check 'still active' systemctl is-active --quiet state-overlay@srv-app.service
check 'mounted again' is_mounted_overlay /srv/app
expect 'changed file: edit dropped, new base shows' "$(content /srv/app/a.txt)" 'a v2, longer'
check 'the edit is in backups' in_backups srv-app a.txt 'my a'
check 'the backups are on another filesystem' test "$(stat -c %d $STATE_APP/backups)" != "$(stat -c %d $STATE_APP/upper)"
set_a=$(ls -d $STATE_APP/backups/*/upper/a.txt)
expect '... owner and set-uid mode copied under the sandbox' "$(stat -c '%u:%g %a' "$set_a")" '1234:5678 4750'
expect '... file capability copied under the sandbox' "$(fcap "$set_a")" $CAP_NET_RAW
expect 'unchanged file: edit kept' "$(content /srv/app/b.txt)" 'my b'
expect 'state kept' "$(content /srv/app/state.txt)" state
expect 'the new base file shows' "$(content /srv/app/new.txt)" 'new in v2'
expect 'the reload reconciled once' "$(journal_events state-overlay@srv-app.service watch.reload | wc -l)" 1
check 'a second reload with no change' systemctl reload state-overlay@srv-app.service
expect '... does nothing' "$(journal_events state-overlay@srv-app.service watch.reload | wc -l)" 1
expect 'the edit is still as reconciled' "$(content /srv/app/b.txt)" 'my b'
# restore (offline) under the unit's own sandbox: its hardening lines as systemd-run properties
check 'systemctl stop' systemctl stop state-overlay@srv-app.service
set=$(basename "$(dirname "$(dirname "$set_a")")")
props=()
while IFS= read -r line; do props+=(-p "$line"); done < <(grep -E '^(CapabilityBoundingSet|NoNewPrivileges|RestrictAddressFamilies|IPAddressDeny|SystemCallArchitectures|SystemCallFilter|SystemCallErrorNumber|LockPersonality|RestrictRealtime|RestrictNamespaces|UMask)=' /usr/lib/systemd/system/state-overlay@.service)
expect 'the sandbox has its lines' "\${#props[@]}" 22
# (no D-Bus in the guest, so no --wait: a oneshot's start job ends when its process does)
check 'restore under the sandbox' systemd-run --quiet --unit=so-restore -p Type=oneshot -p RemainAfterExit=yes "\${props[@]}" /usr/bin/state-overlay restore srv-app "$set" a.txt
expect '... exited 0' "$(systemctl show -P ExecMainStatus so-restore.service)" 0
journalctl -b -u so-restore.service -o cat --no-pager | tail -5
check 'systemctl start' systemctl start state-overlay@srv-app.service
expect 'the edit is back' "$(content /srv/app/a.txt)" 'my a'
expect '... with its owner and mode' "$(stat -c '%u:%g %a' /srv/app/a.txt)" '1234:5678 4750'
expect '... and its file capability' "$(fcap /srv/app/a.txt)" $CAP_NET_RAW
finish`,
    },
  ],
} satisfies Scenario;
