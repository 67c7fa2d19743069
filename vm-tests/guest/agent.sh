#!/bin/bash
# Guest side of the VM suite: runs this boot's phase from the io disk, writes the results back onto
# the same disk as a tar, then powers off. The host reads the tar once QEMU has exited.
set -u
io=/dev/disk/by-id/virtio-vmio
work=/run/vm-phase
results=/run/vm-results
mkdir -p "$work" "$results"
# The phase scripts read JSON with node; the image's own PATH has none (the product needs none).
export PATH=/usr/lib/vm-agent/bin:$PATH
marker() { echo "@@VM $*@@" > /dev/ttyS0; }

marker agent-start
for _ in $(seq 100); do [ -b "$io" ] && break; udevadm settle; sleep 0.1; done
if tar -xf "$io" -C "$work"; then
  marker "phase-start $(cat "$work/phase-name" 2>/dev/null)"
  (cd "$work" && timeout "${VM_PHASE_TIMEOUT:-900}" bash "$work/phase.sh") > "$results/output.log" 2>&1
  echo $? > "$results/status"
else
  echo "agent: cannot read the phase from $io" > "$results/output.log"
  echo 125 > "$results/status"
fi
journalctl -b --no-pager -o short-monotonic > "$results/journal.txt" 2>&1
systemctl list-units --failed --no-pager --plain > "$results/failed-units.txt" 2>&1
tail -n 40 "$results/output.log" > /dev/ttyS0
tar --format=gnu -cf "$io" -C "$results" . && sync
marker "phase-done status=$(cat "$results/status")"
systemctl poweroff --no-block
