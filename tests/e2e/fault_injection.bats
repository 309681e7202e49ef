#!/usr/bin/env bats
# Fault injection: the two files nvbind replaces in place of others, a CDI spec (nvbind cdi
# generate) and a bundle's config.json (nvbind-runtime create), under a full file system
# (ENOSPC, a size-limited tmpfs), a read-only one (EROFS) and SIGKILL at random points.
# After each fault the file is the old one byte for byte or the complete new one, never torn,
# empty or missing; a failed wrapper never starts the low-level runtime; the temporary file of
# a killed writer is removed by the next writer. Then many writers at once: 200 wrappers, each
# on its own bundle, and 20 generators on one output.
#
#   NVB_FAULT_TRIALS=N   SIGKILL trials per writer (default 200)
# Needs root (tmpfs mounts in private mount namespaces: unshare -m) and cc (helpers/kill-after.c).

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/fault

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

setup_file() {
	ensure_roots
	F=$BATS_FILE_TMPDIR
	export ROOTS F NVBIND RUNTIME E2E_DIR WITH_SPECS TRIALS=${NVB_FAULT_TRIALS:-200}
	export KILL_AFTER=$F/kill-after
	# these trials compare whole specs and need them large (a config.json over 8k): every
	# driver file a mount of its own, no driver folder (cdi_cli.bats tests the folder)
	printf '[cdi]\ndriver_folder = false\n' >"$F/config.toml"
	export NVBIND_CONFIG=$F/config.toml
	cc -O1 -Wall -Werror -o "$KILL_AFTER" "$E2E_DIR/helpers/kill-after.c"
	# the two specs the tests swap: h100-host (about 16k) and debian-4gpu (about 36k); their
	# sizes depend on the hook path, so on the build directory's name. Every driver file a mount
	# of its own (no driver folder): the sizes these trials need (a config.json over 8k)
	"$NVBIND" --root "$ROOTS/h100-host" cdi generate --no-driver-folder --output "$F/h100.json" 2>/dev/null
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --no-driver-folder --output "$F/debian.json" 2>/dev/null
	# a tmpfs of this many KiB holds the h100 spec and nothing more
	export H100_KB=$((($(stat -c %s "$F/h100.json") + 4095) / 4096 * 4))

	# a stand-in runc: records each call, and fails unless config.json has the GPU
	mkdir -p "$F/bin"
	cat >"$F/bin/runc" <<-'EOF'
		#!/bin/sh
		b=.
		prev=
		for a in "$@"; do
			case "$prev" in -b | --bundle) b=$a ;; esac
			prev=$a
		done
		echo "$*" >>"$STUB_LOG"
		grep -q '"/dev/nvidia0"' "$b/config.json" || exit 3
	EOF
	chmod +x "$F/bin/runc"

	# a bundle asking for GPU 0 by annotation; its root file system lies outside the bundle
	# directory, so a fault on the bundle's file system hits the save of config.json itself
	mkdir -p "$F/template" "$F/rootfs"
	(cd "$F/template" && runc spec)
	export PATH="$F/bin:$PATH" # from here on runc is the stand-in
	jq --arg r "$F/rootfs" '.annotations["cdi.k8s.io/gpu"] = "nvidia.com/gpu=0" | .root.path = $r' \
		"$F/template/config.json" >"$F/config.old"
	# the complete new config.json, as the wrapper writes it
	mkdir -p "$F/ref"
	cp "$F/config.old" "$F/ref/config.json"
	STUB_LOG=/dev/null "$WITH_SPECS" "$F/h100.json" -- "$RUNTIME" --root "$F/state" create -b "$F/ref" ref
	cp "$F/ref/config.json" "$F/config.new"
	# the same with the root file system inside the bundle, for many bundles at once
	jq '.root.path = "rootfs"' "$F/config.old" >"$F/config.old.rel"
	mkdir -p "$F/ref-rel/rootfs"
	cp "$F/config.old.rel" "$F/ref-rel/config.json"
	STUB_LOG=/dev/null "$WITH_SPECS" "$F/h100.json" -- "$RUNTIME" --root "$F/state" create -b "$F/ref-rel" ref
	cp "$F/ref-rel/config.json" "$F/config.new.rel"
}

setup() {
	export STUB_LOG=$BATS_TEST_TMPDIR/runc-calls
	: >"$STUB_LOG"
}

# in_private_mount SCRIPT ARGS...: run SCRIPT with bash in a private mount namespace, so its
# tmpfs mounts vanish with it
in_private_mount() {
	local script=$1
	shift
	run unshare -m --propagation private bash -c "source \"\$E2E_DIR/helpers/fault.bash\"; $script" \
		in-private-mount "$@"
	echo "$output"
}

@test "fixtures: the references are what the tests assume" {
	run "$NVBIND" cdi validate "$F/h100.json"
	[ "$status" -eq 0 ]
	run "$NVBIND" cdi validate "$F/debian.json"
	[ "$status" -eq 0 ]
	# the new spec cannot fit in the 8k a tmpfs has beside the old one
	[ "$(stat -c %s "$F/debian.json")" -gt $((H100_KB * 1024 + 8192)) ]
	! cmp -s "$F/h100.json" "$F/debian.json"
	jq -e '.linux.devices[] | select(.path == "/dev/nvidia0")' "$F/config.new" >/dev/null
	! jq -e '.linux.devices[]? | select(.path == "/dev/nvidia0")' "$F/config.old" >/dev/null
	[ "$(stat -c %s "$F/config.old")" -le 4096 ]
	[ "$(stat -c %s "$F/config.new")" -gt 8192 ]
	# the kill trials compare bytes: generating and editing must be deterministic
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --no-driver-folder --output "$BATS_TEST_TMPDIR/again.json" 2>/dev/null
	cmp "$F/debian.json" "$BATS_TEST_TMPDIR/again.json"
	# and so must the driver folder's name
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$BATS_TEST_TMPDIR/f1.json" 2>/dev/null
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$BATS_TEST_TMPDIR/f2.json" 2>/dev/null
	cmp "$BATS_TEST_TMPDIR/f1.json" "$BATS_TEST_TMPDIR/f2.json"
}

# ------------------------------------------------------------------ cdi generate

@test "cdi generate: ENOSPC (a tmpfs just big enough for the old spec) keeps the old spec, no temporary file" {
	in_private_mount '
		d=$1
		mkdir -p "$d"
		mount -t tmpfs -o size=${H100_KB}k nvb-fault "$d"
		cp "$F/h100.json" "$d/nvidia.com-gpu.json"
		"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$d/nvidia.com-gpu.json"
		echo "rc=$?"
		cmp "$F/h100.json" "$d/nvidia.com-gpu.json" && echo "old intact"
		echo "files: $(ls -A "$d" | xargs)"' "$BATS_TEST_TMPDIR/cdi"
	[ "$status" -eq 0 ]
	[[ "$output" == *"No space left on device"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"old intact"* ]]
	[[ "$output" == *"files: nvidia.com-gpu.json" ]]
}

@test "cdi generate: ENOSPC part way through the write (8k free), and with no old spec" {
	in_private_mount '
		d=$1
		mkdir -p "$d"
		mount -t tmpfs -o size=$((H100_KB + 8))k nvb-fault "$d"
		cp "$F/h100.json" "$d/nvidia.com-gpu.json"
		"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$d/nvidia.com-gpu.json"
		echo "rc=$?"
		cmp "$F/h100.json" "$d/nvidia.com-gpu.json" && echo "old intact"
		echo "files: $(ls -A "$d" | xargs)"
		rm "$d/nvidia.com-gpu.json"
		"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$d/nvidia.com-gpu.json"
		echo "rc=$?"
		echo "empty: $(ls -A "$d" | wc -l)"' "$BATS_TEST_TMPDIR/cdi"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'No space left on device' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^rc=1$' <<<"$output")" -eq 2 ]
	[[ "$output" == *"old intact"* ]]
	[[ "$output" == *"files: nvidia.com-gpu.json"$'\n'* ]]
	[[ "$output" == *"empty: 0" ]]
}

@test "cdi generate: EROFS (read-only tmpfs, read-only bind mount) keeps the old spec" {
	in_private_mount '
		d=$1
		mkdir -p "$d/tmpfs" "$d/bind"
		mount -t tmpfs nvb-fault "$d/tmpfs"
		cp "$F/h100.json" "$d/tmpfs/nvidia.com-gpu.json"
		mount -o remount,ro "$d/tmpfs"
		cp "$F/h100.json" "$d/bind/nvidia.com-gpu.json"
		mount --bind "$d/bind" "$d/bind"
		mount -o remount,bind,ro "$d/bind"
		for m in tmpfs bind; do
			"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$d/$m/nvidia.com-gpu.json"
			echo "$m rc=$?"
			cmp "$F/h100.json" "$d/$m/nvidia.com-gpu.json" && echo "$m old intact"
			echo "$m files: $(ls -A "$d/$m" | xargs)"
		done' "$BATS_TEST_TMPDIR/cdi"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'Read-only file system' <<<"$output")" -eq 2 ]
	for m in tmpfs bind; do
		[[ "$output" == *"$m rc=1"* ]]
		[[ "$output" == *"$m old intact"* ]]
		[[ "$output" == *"$m files: nvidia.com-gpu.json"$'\n'* || "$output" == *"$m files: nvidia.com-gpu.json" ]]
	done
}

@test "cdi generate: SIGKILL at random points leaves the old spec or the complete new one" {
	d=$BATS_TEST_TMPDIR/cdi
	mkdir "$d"
	cmd=("$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$d/nvidia.com-gpu.json")
	mean=$(mean_us 5 "${cmd[@]}")
	max=$((mean * 2 > 2000 ? mean * 2 : 2000))
	run kill_trials "$TRIALS" "$max" "$d/nvidia.com-gpu.json" "$F/h100.json" "$F/debian.json" \
		.nvidia.com-gpu.json.tmp. -- "${cmd[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# generate (one run ${mean}us): $output" >&3
	# the kills spread over the whole run: some before the rename, some after
	[[ "$output" =~ ,\ ([0-9]+)\ old\ file,\ ([0-9]+)\ new ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "${BASH_REMATCH[2]}" -gt 0 ]
	# the next complete run clears whatever the killed ones left
	run "${cmd[@]}"
	[ "$status" -eq 0 ]
	[ "$(ls -A "$d" | xargs)" = ".nvidia.com-gpu.json.nvbind-state nvidia.com-gpu.json" ]
	cmp "$d/nvidia.com-gpu.json" "$F/debian.json"
	run "$NVBIND" cdi validate "$d/nvidia.com-gpu.json"
	[ "$status" -eq 0 ]
}

@test "cdi generate: 20 generators at once on one output leave one complete spec, no temporary file" {
	d=$BATS_TEST_TMPDIR/cdi
	mkdir "$d"
	pids=()
	for i in $(seq 20); do
		root=h100-host
		[ $((i % 2)) -eq 0 ] && root=debian-4gpu
		"$NVBIND" --root "$ROOTS/$root" cdi generate --output "$d/nvidia.com-gpu.json" 2>"$d.err.$i" &
		pids+=($!)
	done
	failed=0
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
	cat "$d".err.* | grep -v '^nvbind: wrote' || true
	[ "$failed" -eq 0 ]
	cmp -s "$d/nvidia.com-gpu.json" "$F/h100.json" || cmp "$d/nvidia.com-gpu.json" "$F/debian.json"
	run "$NVBIND" cdi validate "$d/nvidia.com-gpu.json"
	[ "$status" -eq 0 ]
	[ "$(ls -A "$d" | xargs)" = ".nvidia.com-gpu.json.nvbind-state nvidia.com-gpu.json" ]
}

# ------------------------------------------------------------------ nvbind-runtime create

@test "runtime create: ENOSPC saving config.json keeps the old file and does not start runc" {
	in_private_mount '
		b=$1
		mkdir -p "$b"
		mount -t tmpfs -o size=8k nvb-fault "$b"
		cp "$F/config.old" "$b/config.json"
		"$WITH_SPECS" "$F/h100.json" -- "$RUNTIME" --root "$F/state" create -b "$b" c1
		echo "rc=$?"
		cmp "$F/config.old" "$b/config.json" && echo "old intact"
		echo "files: $(ls -A "$b" | xargs)"' "$BATS_TEST_TMPDIR/bundle"
	[ "$status" -eq 0 ]
	[[ "$output" == *"No space left on device"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"old intact"* ]]
	[[ "$output" == *"files: config.json" ]]
	[ ! -s "$STUB_LOG" ]
}

@test "runtime create: EROFS saving config.json keeps the old file and does not start runc" {
	in_private_mount '
		b=$1
		mkdir -p "$b"
		cp "$F/config.old" "$b/config.json"
		mount --bind "$b" "$b"
		mount -o remount,bind,ro "$b"
		"$WITH_SPECS" "$F/h100.json" -- "$RUNTIME" --root "$F/state" create -b "$b" c1
		echo "rc=$?"
		cmp "$F/config.old" "$b/config.json" && echo "old intact"
		echo "files: $(ls -A "$b" | xargs)"' "$BATS_TEST_TMPDIR/bundle"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"old intact"* ]]
	[[ "$output" == *"files: config.json" ]]
	[ ! -s "$STUB_LOG" ]
}

@test "runtime create: SIGKILL at random points leaves the old config.json or the complete new one" {
	b=$BATS_TEST_TMPDIR/bundle
	mkdir "$b"
	cp "$F/config.old" "$b/config.json"
	# one private namespace for all trials: the kills hit the wrapper, not the set-up
	run "$WITH_SPECS" "$F/h100.json" -- bash -c '
		source "$E2E_DIR/helpers/fault.bash"
		b=$1
		cmd=("$RUNTIME" --root "$F/state" create -b "$b" c1)
		mean=$(mean_us 5 "${cmd[@]}")
		max=$((mean * 2 > 2000 ? mean * 2 : 2000))
		echo "one run ${mean}us"
		kill_trials "$TRIALS" "$max" "$b/config.json" "$F/config.old" "$F/config.new" \
			.config.json.tmp. -- "${cmd[@]}" || exit 1
		cp "$F/config.old" "$b/config.json"
		"${cmd[@]}" || exit 1
		echo "files: $(ls -A "$b" | xargs)"' kill-trials "$b"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# runtime create ($(head -1 <<<"$output")): $(grep trials <<<"$output")" >&3
	[[ "$output" =~ ,\ ([0-9]+)\ old\ file,\ ([0-9]+)\ new ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "${BASH_REMATCH[2]}" -gt 0 ]
	[[ "$output" == *"files: config.json" ]]
	cmp "$b/config.json" "$F/config.new"
}

@test "runtime create: 200 wrappers at once against one installed spec, each on its own bundle" {
	n=200
	for i in $(seq $n); do
		mkdir -p "$BATS_TEST_TMPDIR/b$i/rootfs"
		cp "$F/config.old.rel" "$BATS_TEST_TMPDIR/b$i/config.json"
	done
	run "$WITH_SPECS" "$F/h100.json" -- bash -c '
		n=$1 dir=$2 failed=0 pids=()
		for i in $(seq "$n"); do
			"$RUNTIME" --root "$F/state" create -b "$dir/b$i" "c$i" 2>"$dir/err$i" &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
		echo "failed: $failed"' concurrent "$n" "$BATS_TEST_TMPDIR"
	echo "$output"
	cat "$BATS_TEST_TMPDIR"/err* | head -20
	[ "$status" -eq 0 ]
	[[ "$output" == *"failed: 0" ]]
	[ "$(wc -l <"$STUB_LOG")" -eq "$n" ]
	for i in $(seq $n); do
		cmp "$BATS_TEST_TMPDIR/b$i/config.json" "$F/config.new.rel"
		[ "$(ls -A "$BATS_TEST_TMPDIR/b$i" | xargs)" = "config.json rootfs" ]
	done
	jq -e '.linux.devices[] | select(.path == "/dev/nvidia0")' "$BATS_TEST_TMPDIR/b$n/config.json" >/dev/null
}
