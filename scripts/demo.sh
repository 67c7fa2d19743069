#!/usr/bin/env bash
# The main job: on a scratch tree (--root), mount an overlay over /opt, change things in it,
# bring a new base (the "image update"), and let `run` reconcile before mounting again.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: overlay mounts need root" >&2; exit 1; }

ROOT=$(mktemp -d /tmp/state-overlay-demo.XXXXXX)
# -q: warnings only; the commands print their own results (drop it to see the JSON event log).
so() { node bin/state-overlay.js -q --root "$ROOT" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() { so unmount opt --lazy >/dev/null 2>&1 || true; rm -rf "$ROOT"; }
trap cleanup EXIT

step "image v1: $ROOT/opt is the image's /opt (the base)"
mkdir -p "$ROOT/opt/app/bin" "$ROOT/opt/app/etc" "$ROOT/opt/app/share" "$ROOT/etc/state-overlay"
printf 'tool v1\n' >"$ROOT/opt/app/bin/tool"
printf 'port=80\n' >"$ROOT/opt/app/etc/app.conf"
printf 'colour=blue\n' >"$ROOT/opt/app/etc/theme.conf"
printf 'docs v1\n' >"$ROOT/opt/app/share/README"
printf '[Paths]\nConfig=/opt/*/etc/**\n' >"$ROOT/etc/state-overlay/opt.conf"
find "$ROOT/opt" -type f | sort | sed "s|$ROOT||"

step "state-overlay run opt: mount the overlay"
so run opt
findmnt -n -o FSTYPE,TARGET "$ROOT/opt"

step "the host writes: state, an edited config, an edited doc, a local tool build, a deletion"
printf 'rows\n' >"$ROOT/opt/app/data.db"
printf 'port=8080\n' >"$ROOT/opt/app/etc/app.conf"
printf 'docs v1 + local notes\n' >"$ROOT/opt/app/share/README"
printf 'tool (local build)\n' >"$ROOT/opt/app/bin/tool"
rm "$ROOT/opt/app/etc/theme.conf"
so diff opt

step "stop the service (unmount)"
so unmount opt

step "image v2 arrives: new tool, new app.conf default, theme.conf changed, README unchanged"
printf 'tool v2\n' >"$ROOT/opt/app/bin/tool"
printf 'port=80\nworkers=4\n' >"$ROOT/opt/app/etc/app.conf"
printf 'colour=green\n' >"$ROOT/opt/app/etc/theme.conf"

step "state-overlay reconcile opt --dry-run: the plan, with decision-table rules"
so reconcile opt --dry-run

step "state-overlay run opt: reconcile, then mount"
so run opt

step "the merged view after the update"
for f in app/bin/tool app/etc/app.conf app/etc/app.conf.rpmnew app/etc/theme.conf app/share/README app/data.db; do
  printf '%-26s ' "/opt/$f"
  if [ -e "$ROOT/opt/$f" ]; then tr '\n' ' ' <"$ROOT/opt/$f"; echo; else echo '(absent)'; fi
done

step "status and backups"
so status opt
so backups opt
