#!/usr/bin/env bats
# What nvbind-runtime leaves behind with the real runc: container records (created at create,
# removed at delete), the counters, and JSON log lines (docs/logging.md, src/oci/records.h).

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

setup_file() {
	need_engine runc || return 0
	ensure_roots
	export ROOTS
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$BATS_FILE_TMPDIR/debian-4gpu.json" 2>/dev/null
}

setup() {
	engine_skip
	STATE="$BATS_TEST_TMPDIR/runc-state"
	B="$BATS_TEST_TMPDIR/bundle"
	export NVBIND_STATE_DIR="$BATS_TEST_TMPDIR/nvbind-state"
	LOG="$BATS_TEST_TMPDIR/runtime.log"
	# the wrapper's own log file, away from the machine's
	printf '[runtime]\nlog_file = "%s"\nlog_level = "debug"\n' "$LOG" >"$BATS_TEST_TMPDIR/config.toml"
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/config.toml"
	ID="rec$BATS_TEST_NUMBER"
}

teardown() {
	[ -d "${STATE:-/nonexistent}" ] && runc --root "$STATE" delete --force "$ID" >/dev/null 2>&1 || true
}

# wrapper ARGS...: nvbind-runtime with the spec installed, status in $status, stderr in
# $output; the container's stdio goes to files (a created container keeps it open, and
# bats' `run` would wait for it to close)
wrapper() {
	status=0
	"$WITH_SPECS" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- "$RUNTIME" --root "$STATE" "$@" \
		</dev/null 2>"$BATS_TEST_TMPDIR/wrapper.err" >"$BATS_TEST_TMPDIR/wrapper.out" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/wrapper.err")
	echo "$output"
}

# the GPU UUID the spec gives the same device node as its device "0"
uuid_of_gpu0() {
	jq -r '(.devices[] | select(.name == "0") | .containerEdits.deviceNodes[0].path) as $n |
		.devices[] | select((.name | startswith("GPU-")) and .containerEdits.deviceNodes[0].path == $n) | .name' \
		"$BATS_FILE_TMPDIR/debian-4gpu.json"
}

@test "create leaves a record with the device and its GPU UUID; delete removes it" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "sleep 60"
	bundle_edit "$B" '.annotations["cdi.k8s.io/gpu"] = "nvidia.com/gpu=0"'
	wrapper create -b "$B" "$ID"
	[ "$status" -eq 0 ]
	rec="$NVBIND_STATE_DIR/containers/$ID.json"
	cat "$rec"
	uuid=$(uuid_of_gpu0)
	[[ $uuid == GPU-* ]]
	jq -e --arg id "$ID" --arg b "$(realpath "$B")" --arg u "$uuid" --arg root "$STATE" '
		.version == 1 and .id == $id and .bundle == $b and .devices == ["nvidia.com/gpu=0"] and
		.gpus == [$u] and .runtime_root == $root and .engine == "unknown" and
		(.created_unix | type) == "number" and (.created | test("Z$"))' "$rec"
	# runc knows the container: the record is not stale
	[ -e "$STATE/$ID" ]
	jq -e '.creates == 1 and .failures == {} and .latency_seconds.count == 1 and
		.latency_seconds.buckets[-1] <= 1' "$NVBIND_STATE_DIR/stats"
	wrapper delete --force "$ID"
	[ "$status" -eq 0 ]
	[ ! -e "$rec" ]
	[ ! -e "$STATE/$ID" ]
}

@test "a container without a GPU request leaves no record" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "true"
	wrapper run -b "$B" "$ID"
	[ "$status" -eq 0 ]
	[ ! -e "$NVBIND_STATE_DIR/containers/$ID.json" ]
	jq -e '.creates == 1' "$NVBIND_STATE_DIR/stats" # still counted
}

@test "delete of a container without a record, and with a hostile id, just passes through" {
	wrapper delete "no-such-container"
	[ "$status" -ne 0 ] # runc's own answer
	[[ "$output" == *"container does not exist"* ]]
	mkdir -p "$NVBIND_STATE_DIR/containers"
	echo keep >"$NVBIND_STATE_DIR/keep.json"
	wrapper delete "../keep"
	[ -e "$NVBIND_STATE_DIR/keep.json" ]
}

@test "a failing create counts the failure with its reason and logs it as JSON" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "echo started"
	bundle_edit "$B" '.annotations["cdi.k8s.io/gpu"] = "nvidia.com/gpu=77"'
	NVBIND_LOG_FORMAT=json wrapper create -b "$B" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"unresolvable CDI device nvidia.com/gpu=77"* ]]
	[ ! -e "$NVBIND_STATE_DIR/containers/$ID.json" ]
	jq -e '.creates == 1 and .failures == {"not-found": 1} and .latency_seconds.count == 1' \
		"$NVBIND_STATE_DIR/stats"
	cat "$LOG"
	# every line is JSON with the stable fields; the failure line carries the error and time
	jq -e -s 'length > 0 and all(.[]; .program == "nvbind-runtime" and (.time | test("Z$")) and
		(.level | type) == "string")' "$LOG"
	jq -e -s --arg id "$ID" 'any(.[]; .error == "not-found" and .container == $id and
		.request == ["nvidia.com/gpu=77"] and (.duration_us | type) == "number")' "$LOG"
}

@test "JSON log lines of a successful create carry container, request, gpus and duration" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "true"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0
	NVBIND_LOG_FORMAT=json wrapper run -b "$B" "$ID"
	[ "$status" -eq 0 ]
	cat "$LOG"
	uuid=$(uuid_of_gpu0)
	jq -e -s --arg id "$ID" --arg u "$uuid" 'any(.[]; .container == $id and
		.request == ["nvidia.com/gpu=0"] and .gpus == [$u] and .duration_us >= 0 and
		(has("error") | not))' "$LOG"
	# nvbind itself: the same format from NVBIND_LOG_FORMAT
	run -0 env NVBIND_LOG_FORMAT=json NVBIND_LOG_LEVEL=debug "$NVBIND" --root "$ROOTS/debian-4gpu" info --json
	run -0 bash -c 'env NVBIND_LOG_FORMAT=json NVBIND_LOG_LEVEL=debug "$1" --root "$2" info 2>&1 >/dev/null | jq -e -s "length > 0 and all(.[]; .program == \"nvbind\")"' _ "$NVBIND" "$ROOTS/debian-4gpu"
}
