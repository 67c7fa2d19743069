// Reconcile=all: on a base change every shadow, whiteout and opaque dir goes (to backups), even over
// paths the update never touched; pure state stays. That is ostree's state-overlay behaviour.
import type { Scenario } from '../lib/scenario.js';
import { v1, v2 } from './bases.js';
import { ENABLE_BOTH, OPT_CONF, WRITE_EVERYTHING } from './host-changes.js';

export default {
  name: 'reconcile-all',
  bases: { v1, v2 },
  phases: [
    { name: 'Reconcile=all, write everything', base: 'v1', script: `${OPT_CONF('Reconcile=all')}${ENABLE_BOTH}${WRITE_EVERYTHING}wait_manifest opt
finish` },
    {
      name: 'boot base v2: every shadow gone, state kept',
      base: 'v2',
      script: `
expect '/opt shows v2' "$(content /opt/app/VERSION)" 2
expect 'state kept' "$(content /opt/app/var/state.db)" 'local state'
check 'fifo state kept' test -p /opt/app/var/fifo
expect 'odd name kept' "$(content /opt/app/var/$'odd\\xff\\x01name')" odd
expect 'edit of an unchanged file dropped too' "$(content /opt/app/etc/stable.conf)" stable
check '... into backups' in_backups opt app/etc/stable.conf 'my stable'
expect 'config edit dropped too' "$(content /opt/app/etc/app.conf)" 'setting=2'
expect 'no sidecar in all mode' "$(content /opt/app/etc/app.conf.rpmnew)" '<missing>'
expect 'whiteout over an unchanged file dropped: it is back' "$(content /opt/app/share/keptdel.txt)" 'kept deleted'
expect 'opaque dir over unchanged content dropped' "$(ls /opt/app/plugins | tr '\\n' ' ')" 'a.txt b.txt '
check '... its content in backups' in_backups opt app/plugins/mine.txt mine
expect 'type change over an unchanged file dropped' "$(content /opt/app/typechange)" 'a file in the base'
expect 'tool edit dropped' "$(content /opt/app/bin/tool)" "$(content /usr/lib/opt/app/bin/tool)"
expect 'no whiteout left in the upper' "$(find $UPPER_OPT -type c | wc -l)" 0
expect 'no opaque dir left in the upper' "$(find $UPPER_OPT -type d -exec getfattr --only-values -n trusted.overlay.opaque {} + 2>/dev/null | grep -c y)" 0
finish`,
    },
  ],
} satisfies Scenario;
