// Mode=ephemeral: the upper lives on tmpfs under /run, so every boot starts from the pure base.
import type { Scenario } from '../lib/scenario.js';
import { v1 } from './bases.js';
import { OPT_CONF } from './host-changes.js';

export default {
  name: 'ephemeral',
  bases: { v1 },
  phases: [
    {
      name: 'Mode=ephemeral: changes go to /run',
      base: 'v1',
      script: `${OPT_CONF('Mode=ephemeral')}
check 'systemctl enable --now' systemctl enable --now state-overlay@opt.service
check '/opt is an overlay' is_mounted_overlay /opt
echo 'scratch' > /opt/app/var-scratch
echo 'edited' > /opt/app/bin/tool
rm /opt/app/share/data.txt
expect 'the upper is under /run' "$(content /run/state-overlay/opt/upper/app/var-scratch)" scratch
expect 'the upper is on tmpfs' "$(findmnt -n -o FSTYPE --target /run/state-overlay/opt/upper)" tmpfs
expect 'nothing under /var/lib/state-overlay/opt/upper' "$(content /var/lib/state-overlay/opt/upper/app/var-scratch)" '<missing>'
finish`,
    },
    {
      name: 'reboot: the base shows as shipped',
      base: 'v1',
      script: `
check 'the unit is active' systemctl is-active --quiet state-overlay@opt.service
check '/opt is an overlay' is_mounted_overlay /opt
expect 'scratch file gone' "$(content /opt/app/var-scratch)" '<missing>'
expect 'edit gone' "$(content /opt/app/bin/tool)" "$(content /usr/lib/opt/app/bin/tool)"
expect 'deleted file back' "$(content /opt/app/share/data.txt)" data
expect 'the upper is empty' "$(ls -A /run/state-overlay/opt/upper | wc -l)" 0
echo 'still writable' > /opt/app/again
expect '/opt is writable again' "$(content /opt/app/again)" 'still writable'
finish`,
    },
  ],
} satisfies Scenario;
