#!/usr/bin/env bats
# A host whose /usr/bin/nvidia-* are wrapper scripts exec'ing /usr/local/nvidia/bin/* (the
# wrapper-scripts fixture root, shaped like an Ubuntu 24.04 cloud host): a real runc container
# started through nvbind-runtime must get the ELF programs, and `nvidia-smi` must work in it.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

setup_file() {
	command -v runc >/dev/null || skip "runc is not installed"
	ensure_roots
	# roots built by an older builder run may lack the newest manifest
	[ -f "$ROOTS/wrapper-scripts/.nvbind-fixture" ] ||
		python3 "$FIXTURE_BUILDER" -q build wrapper-scripts "$ROOTS/wrapper-scripts"
	export ROOTS
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	"$NVBIND" --root "$ROOTS/wrapper-scripts" cdi generate --output "$BATS_FILE_TMPDIR/wrapper-scripts.json" 2>/dev/null
}

setup() {
	STATE="$BATS_TEST_TMPDIR/runc-state"
	B="$BATS_TEST_TMPDIR/bundle"
	WS="$ROOTS/wrapper-scripts"
}

teardown() {
	local c
	for c in $(runc --root "$STATE" list -q 2>/dev/null); do
		runc --root "$STATE" delete --force "$c" >/dev/null 2>&1 || true
	done
}

# What the container runs: the first bytes of each program on PATH (a script starts with #!),
# then the programs themselves.
SCRIPT='for p in nvidia-smi nvidia-debugdump nv-fabricmanager; do
	echo "head $p $(head -c 4 /usr/bin/$p | grep -c "#!")"
done
nvidia-smi; echo "smi status $?"
nvidia-smi -L
nvidia-debugdump
nv-fabricmanager'

check_output() {
	echo "$output"
	[ "$status" -eq 0 ]
	# ELF programs, not the host's wrappers
	[[ "$output" == *"head nvidia-smi 0"* ]]
	[[ "$output" == *"head nvidia-debugdump 0"* ]]
	[[ "$output" == *"head nv-fabricmanager 0"* ]]
	[[ "$output" != *"not found"* ]]
	# the stand-in nvidia-smi, talking to the stand-in NVML through the mounted libraries
	[[ "$output" == *"Driver Version: 580.95.05"* ]]
	[[ "$output" == *"(nvbind stand-in nvidia-smi 580.95.05)"* ]]
	[[ "$output" == *"smi status 0"* ]]
	[[ "$output" == *"GPU 0: NVIDIA L4 (UUID: GPU-5a1e7c3b-2d4f-4e6a-9b8c-1f2e3d4c5b6a)"* ]]
	[[ "$output" == *"GPU 1: NVIDIA L4 (UUID: GPU-6b2f8d4c-3e5a-4f7b-8c9d-2a3b4c5d6e7f)"* ]]
	[[ "$output" == *"nvidia-debugdump 580.95.05 (nvbind stand-in)"* ]]
	[[ "$output" == *"nv-fabricmanager 580.95.05 (nvbind stand-in)"* ]]
}

@test "the installed spec gives /usr/local/nvidia/bin/nvidia-smi at /usr/bin/nvidia-smi, never the script" {
	spec="$BATS_FILE_TMPDIR/wrapper-scripts.json"
	# the driver folder holds the ELF program (a hard link), linked at /usr/bin/nvidia-smi
	f=$(jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/lib/nvbind") | .hostPath' "$spec")
	[ "$(stat -c %d:%i "$f/bin/nvidia-smi")" = "$(stat -c %d:%i "$WS/usr/local/nvidia/bin/nvidia-smi")" ]
	[[ "$(jq -r '.containerEdits.hooks[0].args | join(" ")' "$spec")" == *"--link /usr/lib/nvbind/bin/nvidia-smi::/usr/bin/nvidia-smi"* ]]
	[ "$(jq --arg r "$WS/usr/bin/" '[.containerEdits.mounts[] | select(.hostPath | startswith($r))] | length' "$spec")" = 0 ]
	# every file a mount of its own: the program's mount
	run -0 "$NVBIND" --root "$WS" cdi generate --no-driver-folder --output -
	[ "$(jq -r '.containerEdits.mounts[] | select(.containerPath=="/usr/bin/nvidia-smi") | .hostPath' <<<"$output")" = \
		"$WS/usr/local/nvidia/bin/nvidia-smi" ]
}

@test "NVIDIA_VISIBLE_DEVICES=all with the spec installed: nvidia-smi runs the stand-in in runc" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$SCRIPT"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=all
	run "$WITH_SPECS" "$BATS_FILE_TMPDIR/wrapper-scripts.json" -- env NVBIND_ROOT="$WS" \
		"$RUNTIME" --root "$STATE" run -b "$B" ws1
	check_output
}

@test "NVIDIA_VISIBLE_DEVICES=all without a spec (generated in memory from the host root): the same" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$SCRIPT"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=all
	run "$WITH_SPECS" -- env NVBIND_ROOT="$WS" "$RUNTIME" --root "$STATE" run -b "$B" ws2
	check_output
}
