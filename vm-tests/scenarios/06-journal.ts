// The journal as an operator queries it: each record at its priority (`journalctl -p warning`), its
// fields (`journalctl STATE_OVERLAY_RULE=3`), the identifier (`-t state-overlay`), the MESSAGE_IDs of
// start, summary and failure, and a bad configuration as systemd's 6/NOTCONFIGURED.
import type { Scenario } from '../lib/scenario.js';
import { MESSAGE_IDS } from '../../src/log/journal-entry.js';
import { v1, v2 } from './bases.js';
import { ENABLE_BOTH, OPT_CONF, WRITE_EVERYTHING } from './host-changes.js';

const UNIT = 'state-overlay@opt.service';

export default {
  name: 'journal',
  bases: { v1, v2 },
  phases: [
    { name: 'enable the units, write every kind of shadow', base: 'v1', script: `${OPT_CONF()}${ENABLE_BOTH}${WRITE_EVERYTHING}wait_manifest opt
finish` },
    {
      name: 'boot base v2: the reconcile in the journal, then a broken configuration',
      base: 'v2',
      script: `
q() { journalctl -b --no-pager "$@"; }
expect '/opt shows v2' "$(content /opt/app/VERSION)" 2
rule3=$(q STATE_OVERLAY_RULE=3 -o cat)
check 'STATE_OVERLAY_RULE=3: the tool drop, its path under /opt' grep -q '^rule 3 drop /opt/app/bin/tool: ' <<<"$rule3"
check 'STATE_OVERLAY_RULE=3: the kept config with its sidecar' grep -q '^rule 3 keep /opt/app/etc/app.conf: ' <<<"$rule3"
expect 'STATE_OVERLAY_RULE=3: rule-3 records only' "$(grep -vc '^rule 3 ' <<<"$rule3")" 0
expect 'every rule-3 backup has its record' "$(q STATE_OVERLAY_RULE=3 STATE_OVERLAY_ACTION=drop -o cat | wc -l)" "$(node -e 'const fs=require("fs");const d="/var/lib/state-overlay/opt/backups";let n=0;for(const s of fs.readdirSync(d))n+=JSON.parse(fs.readFileSync(d+"/"+s+"/index.json","utf8")).entries.filter((e)=>e.rule===3).length;console.log(n)')"
expect 'the drop record has its fields' "$(q STATE_OVERLAY_PATH=/opt/app/bin/tool STATE_OVERLAY_ACTION=drop -o json | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log([r.PRIORITY,r.SYSLOG_IDENTIFIER,r.STATE_OVERLAY_NAME,r.STATE_OVERLAY_RULE,r._SYSTEMD_UNIT].join(" "))')" '6 state-overlay opt 3 ${UNIT}'
expect 'journalctl -t state-overlay finds the summary' "$(q -t state-overlay -u ${UNIT} STATE_OVERLAY_EVENT=reconcile.done -o cat | wc -l)" 1
expect 'MESSAGE_ID of the start' "$(q MESSAGE_ID=${MESSAGE_IDS['reconcile.start']} -u ${UNIT} -o cat | wc -l)" 1
expect 'MESSAGE_ID of the summary' "$(q MESSAGE_ID=${MESSAGE_IDS['reconcile.done']} -u ${UNIT} -o cat | wc -l)" 1
expect 'no JSON lines left in the journal' "$(q -u ${UNIT} -o cat | grep -c '^{')" 0
expect 'journalctl -p warning: nothing at info' "$(q -p warning -u ${UNIT} -o cat | grep -c '^rule 1 drop ')" 0
mkdir -p /etc/state-overlay/opt.conf.d
printf '[Overlay]\\nReconcile=sometimes\\n' > /etc/state-overlay/opt.conf.d/broken.conf
systemctl restart ${UNIT}; note "restart with a broken configuration: exit $?"
expect 'a bad configuration is 6/NOTCONFIGURED' "$(systemctl show -P ExecMainStatus ${UNIT})" 6
warnings=$(q -p warning -u ${UNIT} -o cat)
check 'journalctl -p warning: the stop warns of the broken configuration' grep -q '^configuration of opt is broken, unmounting' <<<"$warnings"
check 'journalctl -p warning: the failure' grep -q 'Reconcile=sometimes: expected changed, all or none' <<<"$warnings"
expect 'the failure record: MESSAGE_ID, PRIORITY=3, its code' "$(q MESSAGE_ID=${MESSAGE_IDS.failed} -u ${UNIT} -o json | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log([r.PRIORITY,r.STATE_OVERLAY_CODE,r.STATE_OVERLAY_EXIT_CODE].join(" "))')" '3 config 6'
rm /etc/state-overlay/opt.conf.d/broken.conf
systemctl reset-failed ${UNIT}
check 'fixed, it starts again' systemctl start ${UNIT}
check '/opt is an overlay again' is_mounted_overlay /opt
finish`,
    },
  ],
} satisfies Scenario;
