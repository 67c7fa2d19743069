// The conventions systemd operators rely on, checked under real systemd: an instance whose name holds
// an escaped dash, a DefaultDependencies=no service ordered after the overlay, READY=1 with STATUS=
// text, the unit clean under systemd-analyze verify, and a base volume that did not mount (nofail).
import type { Scenario } from '../lib/scenario.js';
import { v1 } from './bases.js';
import { OPT_CONF } from './host-changes.js';

const DASHED = 'srv-my\\x2dapp';

/** A service that needs /opt early: it records what it saw there when it started. */
const EARLY_UNIT = `cat > /etc/systemd/system/needs-opt.service <<'UNIT'
[Unit]
Description=Early consumer of /opt
DefaultDependencies=no
After=state-overlay@opt.service
Requires=state-overlay@opt.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'findmnt -n -o FSTYPE --mountpoint /opt > /run/needs-opt.seen; cat /opt/app/VERSION >> /run/needs-opt.seen'
[Install]
WantedBy=local-fs.target
UNIT
`;

export default {
  name: 'systemd',
  bases: { v1 },
  phases: [
    {
      name: 'an escaped-dash instance, an early service ordered after /opt, verify and STATUS=',
      base: 'v1',
      script: `${OPT_CONF()}
# Its base is its own mountpoint's directory on the root (the default Base=), apart from the base disk.
mkdir -p /srv/my-app && echo 1 > /srv/my-app/VERSION
${EARLY_UNIT}
check 'enable both instances and the early service' systemctl enable state-overlay@opt.service 'state-overlay@${DASHED}.service' needs-opt.service
check 'start them' systemctl start state-overlay@opt.service 'state-overlay@${DASHED}.service'
check '/srv/my-app is an overlay' is_mounted_overlay /srv/my-app
expect 'the escaped instance shows its base' "$(content /srv/my-app/VERSION)" 1
echo 'dashed state' > /srv/my-app/state.txt
expect 'its upper is under its own NAME' "$(content '/var/lib/state-overlay/${DASHED}/upper/state.txt')" 'dashed state'
# --man=no: the minbase guest has no man(1) to open Documentation= with (00-guest checks the page is installed).
verify=$(systemd-analyze verify --man=no state-overlay@opt.service 'state-overlay@${DASHED}.service' 2>&1)
expect 'systemd-analyze verify: clean' "$verify" ''
wait_manifest opt
status_after_index() { for _ in $(seq 50); do [[ $(systemctl show -P StatusText state-overlay@opt.service) == "mounted /opt; manifest of "*" recorded" ]] && return 0; sleep 0.2; done; systemctl show -P StatusText state-overlay@opt.service; return 1; }
check 'STATUS= text after the background indexing' status_after_index
finish`,
    },
    {
      name: 'reboot: the instances come back, the early service ran after the overlay',
      base: 'v1',
      script: `
check 'the escaped instance is active' systemctl is-active --quiet 'state-overlay@${DASHED}.service'
expect 'its state survived' "$(content /srv/my-app/state.txt)" 'dashed state'
expect 'the early service saw the overlay and its content' "$(tr '\\n' ' ' < /run/needs-opt.seen)" 'overlay 1'
check 'it started after the overlay was up' bash -c '(( $(systemctl show -P ExecMainStartTimestampMonotonic needs-opt.service) >= $(systemctl show -P ActiveEnterTimestampMonotonic state-overlay@opt.service) ))'
# The next boot goes without the base volume, as when a nofail mount does not mount.
echo 'state before' > /opt/app/var-before.txt
systemctl disable --quiet needs-opt.service
check 'mask the base mount' systemctl mask usr-lib-opt.mount
find /var/lib/state-overlay/opt/upper -printf '%P %y %s\\n' | sort > /var/upper-before.txt
finish`,
    },
    {
      name: 'boot without the base volume: the unit fails clearly, the upper is untouched, boot goes on',
      base: 'v1',
      script: `
check 'the base is not mounted' bash -c '! findmnt --mountpoint /usr/lib/opt'
check 'the unit failed' systemctl is-failed --quiet state-overlay@opt.service
expect '/opt is not overlaid' "$(findmnt -n -o FSTYPE --mountpoint /opt)" ''
check 'the journal says the base looks unmounted' bash -c 'journalctl -b -u state-overlay@opt.service -p err -o cat --no-pager | grep -q "/usr/lib/opt"'
note "its error: $(journalctl -b -u state-overlay@opt.service -p err -o cat --no-pager | grep -m 1 /usr/lib/opt)"
expect 'the upper is untouched' "$(find /var/lib/state-overlay/opt/upper -printf '%P %y %s\\n' | sort | diff - /var/upper-before.txt && echo same)" same
check 'the other instance still came up (boot went on)' systemctl is-active --quiet 'state-overlay@${DASHED}.service'
systemctl unmask usr-lib-opt.mount
finish`,
    },
  ],
} satisfies Scenario;
