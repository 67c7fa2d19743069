// Guest-side snippets the scenarios share: the configuration, and the host's changes of every kind.

/** /opt's base is the read-only base disk; app.conf is a config file, app/keep/ declared state. */
export const OPT_CONF = (extra = '') => `mkdir -p /etc/state-overlay
cat > /etc/state-overlay/opt.conf <<'CONF'
[Overlay]
Base=/usr/lib/opt
${extra}
[Paths]
Config=/opt/app/etc/app.conf
Keep=/opt/app/keep/**
CONF
`;

/** Enables and starts the units the way an admin does, and checks both overlays are mounted. */
export const ENABLE_BOTH = `check 'systemctl enable both units' systemctl enable state-overlay@opt.service state-overlay@usr-local.service
check 'systemctl start both units' systemctl start state-overlay@opt.service state-overlay@usr-local.service
check '/opt is an overlay' is_mounted_overlay /opt
check '/usr/local is an overlay' is_mounted_overlay /usr/local
expect 'the v1 base shows through /opt' "$(content /opt/app/VERSION)" 1
`;

/** Pure state, and a shadow of every kind over the v1 base (comments: what v2 does with it). */
export const WRITE_EVERYTHING = `set -e
mkdir -p /opt/app/var
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
echo 'site=local' > /usr/local/etc/site.conf
printf '#!/bin/sh\\necho mine\\n' > /usr/local/bin/my-tool && chmod +x /usr/local/bin/my-tool
rm /usr/local/share/site/readme.txt
sync
set +e
expect 'doomed.txt is a whiteout in the upper' "$(content $UPPER_OPT/app/share/doomed.txt)" '<whiteout>'
check 'plugins is an opaque dir in the upper' opaque $UPPER_OPT/app/plugins
check 'cache is an opaque dir in the upper' opaque $UPPER_OPT/app/cache
expect 'typechange is a dir in the upper' "$(content $UPPER_OPT/app/typechange)" '<dir>'
`;

/** What every later boot on the v1 base shows: nothing the host wrote is lost. */
export const ALL_KEPT = `
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
expect 'usr-local: site.conf edit kept' "$(content /usr/local/etc/site.conf)" 'site=local'
expect 'usr-local: my-tool kept' "$(/usr/local/bin/my-tool)" mine
expect 'usr-local: readme still deleted' "$(content /usr/local/share/site/readme.txt)" '<missing>'
`;
