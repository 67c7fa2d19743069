// The main path: enable both units, write state and every kind of shadow, reboot (all kept, the
// units ordered after /var and before local-fs.target), boot the v2 base (the decision table,
// backups hold what went), boot v2 again (nothing more happens; state written under v2), then fall
// back to v1 as an A/B host does (rule 11: what v1 → v2 dropped comes back, the v2 state stays).
import type { Scenario } from '../lib/scenario.js';
import { v1, v2 } from './bases.js';
import { ALL_KEPT, ENABLE_BOTH, OPT_CONF, UPDATED_V2, WRITE_EVERYTHING } from './host-changes.js';

const ORDERING = `
for unit in state-overlay@opt.service state-overlay@usr-local.service; do
  check "$unit is active" systemctl is-active --quiet "$unit"
  started=$(systemctl show -P InactiveExitTimestampMonotonic "$unit")
  active=$(active_enter "$unit")
  check "$unit started after /var was mounted" test "$(active_enter var.mount)" -gt 0 -a "$(active_enter var.mount)" -le "$started"
  check "$unit active before local-fs.target" test "$active" -gt 0 -a "$active" -le "$(active_enter local-fs.target)"
done
check 'the /opt base was mounted before the overlay' test "$(active_enter usr-lib-opt.mount)" -gt 0 -a "$(active_enter usr-lib-opt.mount)" -le "$(systemctl show -P InactiveExitTimestampMonotonic state-overlay@opt.service)"
`;


export default {
  name: 'update',
  bases: { v1, v2 },
  phases: [
    { name: 'enable both units, write state and every kind of shadow', base: 'v1', script: `${OPT_CONF()}${ENABLE_BOTH}${WRITE_EVERYTHING}${ALL_KEPT}wait_manifest opt
finish` },
    { name: 'reboot without update: all kept, ordered after /var and before local-fs.target', base: 'v1', script: `${ORDERING}${ALL_KEPT}
expect 'no reconcile without an update' "$(journal_events state-overlay@opt.service reconcile.start | wc -l)" 0
expect 'no backups' "$(ls $STATE_OPT/backups 2>/dev/null | wc -l)" 0
finish` },
    { name: 'boot base v2: reconcile by the decision table', base: 'v2', script: `${ORDERING}${UPDATED_V2()}finish` },
    { name: 'boot v2 again: nothing more to do', base: 'v2', script: `
expect 'no reconcile on the same base' "$(journal_events state-overlay@opt.service reconcile.start | wc -l)" 0
expect 'still one backup set' "$(ls $STATE_OPT/backups | wc -l)" 1
expect 'app.conf edit still kept' "$(content /opt/app/etc/app.conf)" 'setting=local'
expect 'state.db still kept' "$(content /opt/app/var/state.db)" 'local state'
echo 'written under v2' > /opt/app/var/under-v2
sync
wait_manifest opt
finish` },
    { name: 'fall back to v1: the rollback brings back what v1 → v2 dropped', base: 'v1', script: `${ALL_KEPT}
expect 'one reconcile ran at boot' "$(journal_events state-overlay@opt.service reconcile.done | wc -l)" 1
check 'it restored entries under rule 11' test "$(journal_events state-overlay@opt.service rollback.restore | wc -l)" -ge 8
expect 'state written under v2 kept' "$(content /opt/app/var/under-v2)" 'written under v2'
expect 'the .rpmnew v1 → v2 wrote went' "$(content /opt/app/etc/app.conf.rpmnew)" '<missing>'
check '... into backups' in_backups opt app/etc/app.conf.rpmnew 'setting=2'
expect 'the tool edit left its set' "$(backup_rules opt app/bin/tool)" ''
finish` },
  ],
} satisfies Scenario;
