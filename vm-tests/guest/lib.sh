# Sourced by every phase script in the guest: checks that report each result and fail the phase.
set -uo pipefail
VM_FAILS=0
UPPER_OPT=/var/lib/state-overlay/opt/upper
STATE_OPT=/var/lib/state-overlay/opt

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; VM_FAILS=$((VM_FAILS + 1)); }

# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { local d=$1; shift; if "$@" > /tmp/vm-check.out 2>&1; then ok "$d"; else fail "$d ($(tail -c 600 /tmp/vm-check.out))"; fi; }
# expect DESCRIPTION ACTUAL EXPECTED
expect() { if [[ "$2" == "$3" ]]; then ok "$1"; else fail "$1: got [$2], want [$3]"; fi; }

# content PATH: the file's content, or <missing>, <dir>, <symlink:TARGET>, <whiteout>
content() {
  if [[ -L $1 ]]; then echo "<symlink:$(readlink "$1")>"
  elif [[ -c $1 ]] && [[ $(stat -c '%t:%T' "$1") == 0:0 ]]; then echo '<whiteout>'
  elif [[ -d $1 ]]; then echo '<dir>'
  elif [[ -e $1 ]]; then cat "$1"
  else echo '<missing>'
  fi
}

is_mounted_overlay() { [[ $(findmnt -n -o FSTYPE --mountpoint "$1") == overlay ]]; }
opaque() { [[ $(getfattr --only-values -n trusted.overlay.opaque "$1" 2>/dev/null) == y ]]; }

# in_backups OVERLAY RELPATH [CONTENT]: some backup set of OVERLAY holds RELPATH (with CONTENT)
in_backups() {
  local f
  for f in /var/lib/state-overlay/"$1"/backups/*/"$2"; do
    [[ -e $f || -L $f ]] || continue
    if [[ $# -lt 3 ]] || [[ $(content "$f") == "$3" ]]; then return 0; fi
  done
  return 1
}

# unit_active_enter UNIT: monotonic µs at which UNIT last became active (0: never)
active_enter() { systemctl show -P ActiveEnterTimestampMonotonic "$1"; }

# persisted checks across boots live on the /var disk
mkdir -p /var/lib/vm-test

finish() {
  if ((VM_FAILS)); then echo "$VM_FAILS check(s) failed"; exit 1; fi
  echo 'all checks passed'
}
