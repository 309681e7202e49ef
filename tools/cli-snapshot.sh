#!/usr/bin/env bash
# tools/cli-snapshot.sh NVBIND ROOTS OUTDIR: the CLI's output on every fixture root, one file per
# command and root, for comparing two builds byte for byte (a refactoring must not change them):
#   tools/cli-snapshot.sh old/src/nvbind build/fixture-roots /tmp/a
#   tools/cli-snapshot.sh new/src/nvbind build/fixture-roots /tmp/b && diff -r /tmp/a /tmp/b
# Runs in a private mount namespace with tmpfs over the machine's spec and config directories,
# so the machine's own files neither change nor leak into the output.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: tools/cli-snapshot.sh NVBIND ROOTS OUTDIR" >&2; exit 2; }
nvbind=$(readlink -f "$1") roots=$(readlink -f "$2") out=$3
mkdir -p "$out"
out=$(readlink -f "$out")
if [ -z "${NVB_SNAPSHOT_NS:-}" ]; then
	exec env NVB_SNAPSHOT_NS=1 unshare -m --propagation private "$0" "$@"
fi
for d in /etc/cdi /var/run/cdi /etc/nvbind; do
	mkdir -p "$d" && mount -t tmpfs -o mode=0755 tmpfs "$d"
done
export HOME=/nonexistent XDG_CONFIG_HOME= NVBIND_CONFIG= NVBIND_LOG_LEVEL=
run() { # NAME ARGS...: stdout, stderr and the exit status of one command
	local name=$1
	shift
	set +e
	"$nvbind" "$@" >"$out/$name.out" 2>"$out/$name.err"
	echo "$?" >"$out/$name.rc"
	set -e
}
for r in "$roots"/*/; do
	root=${r%/}
	n=$(basename "$root")
	[ -f "$root/.nvbind-fixture" ] || continue
	run "$n.info" --root "$root" info
	run "$n.info-json" --root "$root" info --json --no-nvml
	run "$n.generate" --root "$root" cdi generate --output -
	run "$n.generate-yaml" --root "$root" cdi generate --output - --format yaml
	run "$n.doctor" --root "$root" doctor
	run "$n.doctor-json" --root "$root" doctor --json
	run "$n.list" --root "$root" cdi list
	run "$n.config-show" --root "$root" config show
done
run help --help
for c in info cdi hook setup config run doctor migrate; do
	run "help-$c" "$c" --help
done
# the absolute root path appears in outputs: make snapshots of two trees comparable
sed -i "s|$roots|ROOTS|g" "$out"/*
