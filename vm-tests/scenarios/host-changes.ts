// Guest-side snippets the scenarios share: the configuration, and the host's changes of every kind.

/** app.conf is a config file, app/keep/ declared state. */
export const OPT_PATHS = `[Paths]
Config=/opt/app/etc/app.conf
Keep=/opt/app/keep/**
`;

/** /opt's base is the read-only base disk (or BASE); its paths are OPT_PATHS. */
export const OPT_CONF = (extra = '', base = '/usr/lib/opt') => `mkdir -p /etc/state-overlay
cat > /etc/state-overlay/opt.conf <<'CONF'
[Overlay]
Base=${base}
${extra}
${OPT_PATHS}CONF
`;

/** Enables and starts the units the way an admin does, and checks both overlays are mounted. */
export const ENABLE_BOTH = `check 'systemctl enable both units' systemctl enable state-overlay@opt.service state-overlay@usr-local.service
check 'systemctl start both units' systemctl start state-overlay@opt.service state-overlay@usr-local.service
check '/opt is an overlay' is_mounted_overlay /opt
check '/usr/local is an overlay' is_mounted_overlay /usr/local
expect 'the v1 base shows through /opt' "$(content /opt/app/VERSION)" 1
`;

/** Pure state, and a shadow of every kind over the v1 base in /opt (comments: what v2 does with it). */
const OPT_CHANGES = `mkdir -p /opt/app/var
echo 'local state' > /opt/app/var/state.db                       # state: kept
mkfifo /opt/app/var/fifo                                         # state, special file: kept
echo odd > /opt/app/var/$'odd\\xff\\x01name'                       # state, name not UTF-8: kept
echo 'my tool' > /opt/app/bin/tool                               # edit, base changed: dropped (3)
echo 'my stable' > /opt/app/etc/stable.conf                      # edit, base unchanged: kept (2)
echo 'setting=local' > /opt/app/etc/app.conf                     # config edit, base changed: kept + .rpmnew (3)
echo 'pinned local' > /opt/app/keep/pinned.txt                   # Keep=: kept
cat /opt/app/share/data.txt > /tmp/data && cat /tmp/data > /opt/app/share/data.txt   # identical copy-up: dropped (1)
rm /opt/app/share/doomed.txt                                     # whiteout, base changed: comes back (4)
rm /opt/app/share/keptdel.txt                                    # whiteout, base unchanged: kept (2)
rm /opt/app/share/fifo-target && mkfifo /opt/app/share/fifo-target   # special over a changed file: dropped (3)
echo 'my old lib' > /opt/app/lib/libold.so                       # base removes it: dropped (5)
rm -r /opt/app/plugins && mkdir /opt/app/plugins && echo mine > /opt/app/plugins/mine.txt   # opaque, unchanged: kept (7)
rm -r /opt/app/cache && mkdir /opt/app/cache && echo mine > /opt/app/cache/mine.txt         # opaque, changed: dropped (7)
ln -sfn /elsewhere /opt/app/link                                 # symlink, base changed: dropped (3)
rm /opt/app/typechange && mkdir /opt/app/typechange && echo inner > /opt/app/typechange/inner   # type change, unchanged: kept (2)
echo mine > /opt/app/turned/mine.txt                             # under a dir v2 turns into a file: to backups (9)
echo host > /opt/app/newpath                                     # state v2 starts shipping: base wins (6)
`;

/** The host's changes over the image's own /usr/local. */
const USR_LOCAL_CHANGES = `echo 'site=local' > /usr/local/etc/site.conf
printf '#!/bin/sh\\necho mine\\n' > /usr/local/bin/my-tool && chmod +x /usr/local/bin/my-tool
rm /usr/local/share/site/readme.txt
`;

/** What OPT_CHANGES leave in the upper. */
const OPT_UPPER = `expect 'doomed.txt is a whiteout in the upper' "$(content $UPPER_OPT/app/share/doomed.txt)" '<whiteout>'
check 'plugins is an opaque dir in the upper' opaque $UPPER_OPT/app/plugins
check 'cache is an opaque dir in the upper' opaque $UPPER_OPT/app/cache
expect 'typechange is a dir in the upper' "$(content $UPPER_OPT/app/typechange)" '<dir>'
`;

/** The changes to /opt, written through to the disk, and what the upper then holds. */
export const WRITE_OPT = `set -e
${OPT_CHANGES}sync
set +e
${OPT_UPPER}`;

/** The changes to /opt and /usr/local. */
export const WRITE_EVERYTHING = `set -e
${OPT_CHANGES}${USR_LOCAL_CHANGES}sync
set +e
${OPT_UPPER}`;

/** What every later boot on the v1 base shows in /opt: nothing the host wrote is lost. */
export const OPT_KEPT = `
expect 'state.db kept' "$(content /opt/app/var/state.db)" 'local state'
check 'fifo kept' test -p /opt/app/var/fifo
expect 'odd name kept' "$(content /opt/app/var/$'odd\\xff\\x01name')" odd
expect 'tool edit kept' "$(content /opt/app/bin/tool)" 'my tool'
expect 'stable.conf edit kept' "$(content /opt/app/etc/stable.conf)" 'my stable'
expect 'app.conf edit kept' "$(content /opt/app/etc/app.conf)" 'setting=local'
expect 'pinned kept' "$(content /opt/app/keep/pinned.txt)" 'pinned local'
expect 'doomed.txt still deleted' "$(content /opt/app/share/doomed.txt)" '<missing>'
expect 'keptdel.txt still deleted' "$(content /opt/app/share/keptdel.txt)" '<missing>'
check 'fifo-target still a fifo' test -p /opt/app/share/fifo-target
expect 'libold.so edit kept' "$(content /opt/app/lib/libold.so)" 'my old lib'
expect 'plugins still opaque' "$(ls /opt/app/plugins)" mine.txt
expect 'cache still opaque' "$(ls /opt/app/cache)" mine.txt
expect 'link kept' "$(content /opt/app/link)" '<symlink:/elsewhere>'
expect 'typechange kept' "$(content /opt/app/typechange/inner)" inner
expect 'turned/mine.txt kept' "$(content /opt/app/turned/mine.txt)" mine
expect 'newpath kept' "$(content /opt/app/newpath)" host
`;

/** OPT_KEPT, and /usr/local's changes kept. */
export const ALL_KEPT = `${OPT_KEPT}expect 'usr-local: site.conf edit kept' "$(content /usr/local/etc/site.conf)" 'site=local'
expect 'usr-local: my-tool kept' "$(/usr/local/bin/my-tool)" mine
expect 'usr-local: readme still deleted' "$(content /usr/local/share/site/readme.txt)" '<missing>'
`;

/** /opt after the update from v1 to v2 by the decision table; BASE: where the guest sees v2's tree. */
export const OPT_UPDATED = (base: string) => `expect '/opt shows v2' "$(content /opt/app/VERSION)" 2
expect 'one reconcile ran at boot' "$(journal_events state-overlay@opt.service reconcile.done | wc -l)" 1
expect 'state.db kept' "$(content /opt/app/var/state.db)" 'local state'
check 'fifo kept' test -p /opt/app/var/fifo
expect 'odd name kept' "$(content /opt/app/var/$'odd\\xff\\x01name')" odd
expect 'rule 3: tool edit dropped, v2 shows' "$(content /opt/app/bin/tool)" "$(content ${base}/app/bin/tool)"
check 'rule 3: the tool edit is in backups' in_backups opt app/bin/tool 'my tool'
expect 'rule 3: backup index says rule 3 for tool' "$(backup_rules opt app/bin/tool)" 3
expect 'rule 2: stable.conf edit kept' "$(content /opt/app/etc/stable.conf)" 'my stable'
expect 'rule 3 config noreplace: app.conf edit kept' "$(content /opt/app/etc/app.conf)" 'setting=local'
expect 'rule 3 config noreplace: v2 beside it as .rpmnew' "$(content /opt/app/etc/app.conf.rpmnew)" 'setting=2'
expect 'Keep=: pinned kept' "$(content /opt/app/keep/pinned.txt)" 'pinned local'
expect 'rule 1: data.txt shows the base' "$(content /opt/app/share/data.txt)" data
expect 'rule 1: the identical copy-up left the upper' "$(content $UPPER_OPT/app/share/data.txt)" '<missing>'
expect 'rule 4: doomed.txt came back with v2' "$(content /opt/app/share/doomed.txt)" 'doomed v2'
check 'rule 4: its whiteout is in backups' in_backups opt app/share/doomed.txt '<whiteout>'
expect 'rule 2: keptdel.txt still deleted' "$(content /opt/app/share/keptdel.txt)" '<missing>'
expect 'rule 3: fifo over a changed file dropped' "$(content /opt/app/share/fifo-target)" 'is a file in v2'
expect 'rule 5: libold.so gone with the base' "$(content /opt/app/lib/libold.so)" '<missing>'
check 'rule 5: the edit is in backups' in_backups opt app/lib/libold.so 'my old lib'
expect 'rule 7: unchanged opaque dir kept' "$(ls /opt/app/plugins)" mine.txt
expect 'rule 7: opaque dir over changed content dropped' "$(ls /opt/app/cache)" x.txt
check 'rule 7: its content is in backups' in_backups opt app/cache/mine.txt mine
expect 'rule 3: symlink dropped, v2 target shows' "$(content /opt/app/link)" '<symlink:bin/tool2>'
check 'rule 3: the symlink is in backups' in_backups opt app/link '<symlink:/elsewhere>'
expect 'rule 2: type change kept' "$(content /opt/app/typechange/inner)" inner
expect 'rule 9: turned is v2 file' "$(content /opt/app/turned)" 'a file in v2'
check 'rule 9: host content under it is in backups' in_backups opt app/turned/mine.txt mine
expect 'rule 6: base wins on newpath' "$(content /opt/app/newpath)" 'shipped by v2'
check 'rule 6: the host copy is in backups' in_backups opt app/newpath host
`;

/** After the first boot of v2 over WRITE_EVERYTHING: /opt by the decision table (BASE: where v2 is mounted), /usr/local untouched, status. */
export const UPDATED_V2 = (base = '/usr/lib/opt') => `
${OPT_UPDATED(base)}expect 'usr-local untouched: site.conf edit kept' "$(content /usr/local/etc/site.conf)" 'site=local'
expect 'usr-local untouched: my-tool kept' "$(/usr/local/bin/my-tool)" mine
expect 'usr-local: no backups' "$(ls /var/lib/state-overlay/usr-local/backups 2>/dev/null | wc -l)" 0
status=$(state-overlay status opt --json)
expect 'status: recorded generation is the current one' "$(node -e 'const g=JSON.parse(process.argv[1]).overlays[0].generation; console.log(g.recorded !== null && g.recorded === g.current)' "$status")" true
expect 'status: one backup set' "$(node -e 'console.log(JSON.parse(process.argv[1]).overlays[0].backups.sets.length)' "$status")" 1
`;
