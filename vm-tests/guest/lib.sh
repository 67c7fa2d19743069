# Sourced by every phase script in the guest: checks that report each result and fail the phase.
set -uo pipefail
VM_FAILS=0
UPPER_OPT=/var/lib/state-overlay/opt/upper
STATE_OPT=/var/lib/state-overlay/opt

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; VM_FAILS=$((VM_FAILS + 1)); }

# note TEXT: a figure for the host's report
note() { echo "note: $*"; }
# ms_since NANOSECONDS: milliseconds elapsed since a `date +%s%N` reading
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { local d=$1; shift; if "$@" > /tmp/vm-check.out 2>&1; then ok "$d"; else fail "$d ($(tail -c 600 /tmp/vm-check.out))"; fi; }
# expect DESCRIPTION ACTUAL EXPECTED
expect() { if [[ "$2" == "$3" ]]; then ok "$1"; else fail "$1: got [$2], want [$3]"; fi; }

# content PATH: the file's content, or <missing>, <dir>, <fifo>, <symlink:TARGET>, <whiteout>
content() {
  if [[ -L $1 ]]; then echo "<symlink:$(readlink "$1")>"
  elif [[ -p $1 ]]; then echo '<fifo>'
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
  for f in /var/lib/state-overlay/"$1"/backups/*/upper/"$2"; do
    [[ -e $f || -L $f ]] || continue
    if [[ $# -lt 3 ]] || [[ $(content "$f") == "$3" ]]; then return 0; fi
  done
  return 1
}

# backup_rules OVERLAY RELPATH: the rule numbers the backup indexes give for RELPATH (one per set)
backup_rules() {
  node -e '
    const fs = require("fs"), dir = `/var/lib/state-overlay/${process.argv[1]}/backups`;
    const want = Buffer.from(process.argv[2]).toString("latin1");
    for (const set of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
      const idx = JSON.parse(fs.readFileSync(`${dir}/${set}/index.json`, "utf8"));
      for (const e of idx.entries) if (e.path === want) console.log(e.rule);
    }' "$1" "$2"
}

# journal_events UNIT EVENT: this boot's log records of UNIT with that event name, one MESSAGE per line
journal_events() { journalctl -b -u "$1" STATE_OVERLAY_EVENT="$2" -o cat --no-pager || true; }

# journal_field UNIT EVENT FIELD: FIELD (STATE_OVERLAY_ENTRIES, ...) of each of this boot's records of UNIT
# with that event, one a line (<none>: the record has no such field)
journal_field() {
  journalctl -b -u "$1" STATE_OVERLAY_EVENT="$2" -o json --no-pager | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const l of s.split("\n").filter(Boolean)) console.log(JSON.parse(l)[process.argv[1]] ?? "<none>");
    });' "$3"
}

# json_get FILE KEY[.KEY...]: that value of the JSON file (<none>: absent or null)
json_get() { node -e 'let v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); for (const k of process.argv[2].split(".")) v = v?.[k]; console.log(v ?? "<none>")' "$1" "$2"; }

# unit_active_enter UNIT: monotonic µs at which UNIT last became active (0: never)
active_enter() { systemctl show -P ActiveEnterTimestampMonotonic "$1"; }

# save_upper_sums: the sha256 of every file in /opt's upper, kept on /var for a later boot to compare.
save_upper_sums() { (cd $UPPER_OPT && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) > /var/lib/vm-test/upper.sha256; }

# expect_upper_kept: every file save_upper_sums saw is, byte for byte, in the upper or in a backup set,
# exactly once (a cut may move it, never lose or copy it).
expect_upper_kept() {
  sums() { (cd "$1" && find . -type f -print0 | xargs -0 -r sha256sum); }
  { sums $UPPER_OPT; for set in $STATE_OPT/backups/*/upper; do sums "$set"; done; } | LC_ALL=C sort > /tmp/now.sha256
  LC_ALL=C sort /var/lib/vm-test/upper.sha256 > /tmp/want.sha256
  LC_ALL=C comm -3 /tmp/want.sha256 /tmp/now.sha256 | head -n 20
  expect 'every upper entry kept exactly once, byte-identical' "$(LC_ALL=C comm -3 /tmp/want.sha256 /tmp/now.sha256 | wc -l)" 0
}

# wait_manifest NAME: waits (90 s at most) until the manifest of the current base is recorded: it is
# built after the mount, and the next update's reconcile needs it. Not recorded in time is a failure.
wait_manifest() {
  local end=$((SECONDS + 90))
  while ((SECONDS < end)); do
    [[ $(state-overlay status "$1" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).overlays[0].generation.manifest !== null))') == true ]] && { ok "$1: the manifest of the current base is recorded"; return 0; }
    sleep 0.5
  done
  fail "$1: no manifest recorded after 90 s"
}

# persisted checks across boots live on the /var disk
mkdir -p /var/lib/vm-test

finish() {
  if ((VM_FAILS)); then echo "$VM_FAILS check(s) failed"; exit 1; fi
  echo 'all checks passed'
}
