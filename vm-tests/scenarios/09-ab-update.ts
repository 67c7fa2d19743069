// An A/B image update as image-based hosts do it: two read-only root images, each from the documented
// image build, /opt shipped inside the image (the default Base=) with its manifest, B with a newer /opt
// and a newer build of the tool; /var the host's own disk. Boot A and change /opt in every way, boot B
// (the update: the decision table, from the shipped manifests, nothing hashed), boot A again (the
// rollback: rule 11). Each build of the tool reads the state.json the other wrote.
import { breakMode } from '../lib/guest-files.js';
import { PROJECT_VERSION } from '../lib/image.js';
import type { Scenario } from '../lib/scenario.js';
import type { SlotSpec } from '../lib/slot-image.js';
import { v1, v2 } from './bases.js';
import { OPT_KEPT, OPT_PATHS, OPT_UPDATED, WRITE_OPT } from './host-changes.js';
import { SLOT_BOOT, UNIT } from './slot-checks.js';

const a: SlotSpec = { version: PROJECT_VERSION, opt: v1, conf: OPT_PATHS, ship: true };
// VM_BREAK=unshipped: B's build leaves out `index --ship`, so its boot has to hash its base.
const b: SlotSpec = { version: `${PROJECT_VERSION}+1`, opt: v2, conf: OPT_PATHS, ship: breakMode() !== 'unshipped' };

/** The state.json a boot left, kept on /var for the next boot to compare with. */
const KEEP_STATE = (slot: string) => `cp $STATE_OPT/state.json /var/lib/vm-test/state-${slot}.json
`;

export default {
  name: 'ab-update',
  slots: { a, b },
  phases: [
    {
      name: 'boot slot A: the image enabled the unit; write state and change /opt in every way',
      slot: 'a',
      script: `${SLOT_BOOT(a, '1')}
expect 'the first boot had no state before it' "$(journal_field ${UNIT} generation STATE_OVERLAY_RECORDED)" '<none>'
${WRITE_OPT}${KEEP_STATE('a')}finish`,
    },
    {
      name: 'boot slot B (the update): the decision table from the shipped manifests; B reads A state.json',
      slot: 'b',
      script: `${SLOT_BOOT(b, '2')}
expect "B's tool read the generation A's recorded" "$(journal_field ${UNIT} generation STATE_OVERLAY_RECORDED)" "$(json_get /var/lib/vm-test/state-a.json generation)"
expect 'the reconcile went from A to B' "$(json_get $STATE_OPT/state.json lastReconcile.from) $(json_get $STATE_OPT/state.json lastReconcile.to)" "$(json_get /var/lib/vm-test/state-a.json generation) $shipped"
# The lower of /opt: the root filesystem without its submounts.
mkdir -p /run/vm-slot && mount --bind / /run/vm-slot
${OPT_UPDATED('/run/vm-slot/opt')}expect 'a file B added shows' "$(content /opt/app/bin/tool2)" "$(content /run/vm-slot/opt/app/bin/tool2)"
echo 'written under B' > /opt/app/var/under-b
sync
${KEEP_STATE('b')}finish`,
    },
    {
      name: 'boot slot A again (the rollback): rule 11 restores what the update dropped; A reads B state.json',
      slot: 'a',
      script: `${SLOT_BOOT(a, '1')}
expect "the generation is A's again" "$shipped" "$(json_get /var/lib/vm-test/state-a.json generation)"
expect "A's tool read the generation B's recorded" "$(journal_field ${UNIT} generation STATE_OVERLAY_RECORDED)" "$(json_get /var/lib/vm-test/state-b.json generation)"
expect 'one reconcile ran at boot' "$(journal_events ${UNIT} reconcile.done | wc -l)" 1
expect 'it found the set of the update to roll back' "$(journal_events ${UNIT} rollback.found | wc -l)" 1
check 'it restored entries under rule 11' test "$(journal_events ${UNIT} rollback.restore | wc -l)" -ge 8
${OPT_KEPT}expect 'state written under B kept' "$(content /opt/app/var/under-b)" 'written under B'
expect 'the .rpmnew the update wrote went' "$(content /opt/app/etc/app.conf.rpmnew)" '<missing>'
check '... into backups' in_backups opt app/etc/app.conf.rpmnew 'setting=2'
expect 'the tool edit left its set' "$(backup_rules opt app/bin/tool)" ''
finish`,
    },
  ],
} satisfies Scenario;
