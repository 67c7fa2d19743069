// The guest itself: systemd as PID 1, /var and the base on their own disks, the project installed
// from its .deb (the single executable, addons, launcher, unit, man page), running with no Node on
// the system's PATH and no node_modules.
import type { Scenario } from '../lib/scenario.js';
import { v1 } from './bases.js';

export default {
  name: 'guest',
  bases: { v1 },
  phases: [
    {
      name: 'installed from its package, as an image build installs it',
      base: 'v1',
      script: `
expect 'PID 1 is systemd' "$(cat /proc/1/comm)" systemd
expect "/var is its own ext4 disk" "$(findmnt -n -o FSTYPE --mountpoint /var) $(blkid -s LABEL -o value "$(findmnt -n -o SOURCE --mountpoint /var)")" "ext4 so-var"
check 'the base disk is mounted read-only at /usr/lib/opt' findmnt -n -O ro --mountpoint /usr/lib/opt
expect 'the base disk holds v1' "$(content /usr/lib/opt/app/VERSION)" 1
expect 'the package is installed' "$(dpkg-query -W -f '\${Status}' state-overlay)" 'install ok installed'
check 'its files are as the package shipped them' dpkg --verify state-overlay
check 'state-overlay --help runs from the single executable' bash -c 'state-overlay --help | grep -q "^Usage: state-overlay"'
expect 'the executable is an ELF file' "$(head -c 4 /usr/lib/state-overlay/state-overlay | tail -c 3)" ELF
check 'no node on the system PATH' bash -c '! PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v node'
check 'no node_modules in the image' bash -c '! find / -xdev -name node_modules -print -quit | grep -q .'
check 'the fs-xattr addon sits beside the executable' test -f /usr/lib/state-overlay/xattr.node
check "the project's own addon (flock) sits beside the executable" test -f /usr/lib/state-overlay/syscalls.node
check 'the template unit is installed' systemctl cat state-overlay@opt.service
check 'the man page is installed' test -s /usr/share/man/man8/state-overlay.8.gz
t=$(date +%s%N); state-overlay --help > /dev/null; note "state-overlay --help: $(ms_since $t) ms"
note "boot to agent: $(cut -d' ' -f1 /proc/uptime) s of guest uptime"
finish
`,
    },
  ],
} satisfies Scenario;
