#!/usr/bin/env bats
# GPU isolation levels through nvbind-runtime with the real runc (docs/isolation.md):
# exclusive claims between containers, their release at delete and after crashes, the compute
# mode through the stand-in NVML, and MPS daemons with the stand-in nvidia-cuda-mps-control.

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
	# a copy of the 4-GPU root whose nvidia-cuda-mps-control is the recording stand-in
	HOSTROOT="$BATS_FILE_TMPDIR/host"
	cp -a "$ROOTS/debian-4gpu" "$HOSTROOT"
	cc -O2 -Wall -Werror -o "$HOSTROOT/usr/bin/nvidia-cuda-mps-control" \
		"$BATS_TEST_DIRNAME/../fixtures/standins/mps-control.c"
	"$NVBIND" --root "$HOSTROOT" cdi generate --output "$BATS_FILE_TMPDIR/spec.json" 2>/dev/null
}

setup() {
	engine_skip
	HOSTROOT="$BATS_FILE_TMPDIR/host"
	STATE="$BATS_TEST_TMPDIR/runc"
	export NVBIND_STATE_DIR="$BATS_TEST_TMPDIR/nv"
	LOG="$BATS_TEST_TMPDIR/runtime.log"
	write_config ""
	# the stand-in logs beside itself (nvbind gives it a clean environment)
	NVB_STANDIN_MPS_LOG="$HOSTROOT/usr/bin/nvidia-cuda-mps-control.log"
	: >"$NVB_STANDIN_MPS_LOG"
	export NVB_STANDIN_COMPUTE_MODE_DIR="$BATS_TEST_TMPDIR/cm"
	mkdir -p "$NVB_STANDIN_COMPUTE_MODE_DIR"
	IDS=()
}

teardown() {
	local id
	for id in "${IDS[@]}"; do
		runc --root "$STATE" delete --force "$id" >/dev/null 2>&1 || true
	done
	# a daemon a failed test left behind: stop it by its pid (the stand-in logs it)
	if [ -f "${NVB_STANDIN_MPS_LOG:-/nonexistent}" ]; then
		for pid in $(grep -o 'pid=[0-9]* daemon start' "$NVB_STANDIN_MPS_LOG" | grep -o '[0-9]*'); do
			kill "$pid" 2>/dev/null || true
		done
	fi
}

# write_config EXTRA: the configuration with host.root at the copy and EXTRA lines of [isolation]
write_config() {
	printf '[host]\nroot = "%s"\n[runtime]\nlog_file = "%s"\nlog_level = "debug"\n[isolation]\n%b\n' \
		"$HOSTROOT" "$LOG" "$1" >"$BATS_TEST_TMPDIR/config.toml"
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/config.toml"
}

# wrapper ARGS...: nvbind-runtime with the spec installed; stderr in $output
wrapper() {
	status=0
	"$WITH_SPECS" "$BATS_FILE_TMPDIR/spec.json" -- "$RUNTIME" --root "$STATE" "$@" \
		</dev/null 2>"$BATS_TEST_TMPDIR/wrapper.err" >"$BATS_TEST_TMPDIR/wrapper.out" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/wrapper.err")
	echo "$output"
}

# new_bundle ID GPU [ISOLATION] [ANNOTATION=VALUE...]: a bundle in $BATS_TEST_TMPDIR/ID
new_bundle() {
	local id=$1 gpu=$2 level=${3:-} kv
	shift 3 || shift $#
	make_bundle "$BATS_TEST_TMPDIR/$id" "$BATS_FILE_TMPDIR/rootfs" "sleep 60"
	bundle_edit "$BATS_TEST_TMPDIR/$id" '.annotations["cdi.k8s.io/gpu"] = $g' --arg g "nvidia.com/gpu=$gpu"
	[ -z "$level" ] || bundle_edit "$BATS_TEST_TMPDIR/$id" '.annotations["nvbind.io/isolation"] = $l' --arg l "$level"
	for kv in "$@"; do
		bundle_edit "$BATS_TEST_TMPDIR/$id" '.annotations[$k] = $v' --arg k "${kv%%=*}" --arg v "${kv#*=}"
	done
	IDS+=("$id")
}

create() { wrapper create -b "$BATS_TEST_TMPDIR/$1" "$1"; }

uuid_of() { # GPU name -> its UUID in the spec
	jq -r --arg n "$1" '(.devices[] | select(.name == $n) | .containerEdits.deviceNodes[0].path) as $p |
		.devices[] | select((.name | startswith("GPU-")) and .containerEdits.deviceNodes[0].path == $p) | .name' \
		"$BATS_FILE_TMPDIR/spec.json"
}

init_pid() { runc --root "$STATE" state "$1" | jq -r .pid; }

@test "exclusive: a second container asking for the held GPU fails naming the first; another GPU works; delete releases" {
	new_bundle ex1 0 exclusive
	new_bundle ex2 0 exclusive
	new_bundle ex3 1 exclusive
	create ex1
	[ "$status" -eq 0 ]
	u0=$(uuid_of 0)
	jq -e --arg u "$u0" '.container == "ex1" and .gpu == $u and (.pid | type) == "number"' \
		"$NVBIND_STATE_DIR/isolation/claims/$u0.json"
	create ex2
	[ "$status" -ne 0 ]
	[[ "$output" == *"is held exclusively by container ex1 (engine unknown, since 20"* ]]
	[[ "$output" == *"$u0"* ]]
	[ ! -e "$STATE/ex2" ] # runc never ran
	create ex3
	[ "$status" -eq 0 ]
	# a shared container cannot have the held GPU either
	new_bundle sh1 0
	create sh1
	[ "$status" -ne 0 ]
	[[ "$output" == *"held exclusively by container ex1"* ]]
	wrapper delete --force ex1
	[ "$status" -eq 0 ]
	[ ! -e "$NVBIND_STATE_DIR/isolation/claims/$u0.json" ]
	create ex2
	[ "$status" -eq 0 ]
	jq -e '.container == "ex2"' "$NVBIND_STATE_DIR/isolation/claims/$u0.json"
}

@test "exclusive: a container whose processes are gone without delete loses its claim, logged" {
	new_bundle ex1 0 exclusive
	new_bundle ex2 0 exclusive
	create ex1
	[ "$status" -eq 0 ]
	kill -9 "$(init_pid ex1)"
	for _ in $(seq 50); do [ "$(runc --root "$STATE" state ex1 | jq -r .status)" = stopped ] && break; sleep 0.1; done
	create ex2
	[ "$status" -eq 0 ]
	grep -q "taking over the stale exclusive claim of container ex1" "$LOG"
}

@test "exclusive: a wrapper killed mid-way (kill -9) leaves a claim the next create takes over" {
	# the low-level runtime hangs: the wrapper has exec'd it, the claim names its pid
	printf '#!/bin/sh\nexec sleep 600\n' >"$BATS_TEST_TMPDIR/hang"
	chmod +x "$BATS_TEST_TMPDIR/hang"
	printf '[host]\nroot = "%s"\n[runtime]\nlow_level = "%s"\nlog_file = "%s"\n' \
		"$HOSTROOT" "$BATS_TEST_TMPDIR/hang" "$LOG" >"$BATS_TEST_TMPDIR/hang.toml"
	new_bundle ex1 0 exclusive
	new_bundle ex2 0 exclusive
	NVBIND_CONFIG="$BATS_TEST_TMPDIR/hang.toml" "$WITH_SPECS" "$BATS_FILE_TMPDIR/spec.json" -- \
		"$RUNTIME" --root "$STATE" create -b "$BATS_TEST_TMPDIR/ex1" ex1 </dev/null >/dev/null 2>&1 &
	u0=$(uuid_of 0)
	claim="$NVBIND_STATE_DIR/isolation/claims/$u0.json"
	for _ in $(seq 100); do [ -s "$claim" ] && break; sleep 0.1; done
	pid=$(jq -r .pid "$claim")
	[ "$pid" -gt 0 ]
	create ex2
	[ "$status" -ne 0 ] # the wrapper (now the hanging runtime) still lives
	[[ "$output" == *"held exclusively by container ex1"* ]]
	kill -9 "$pid"
	wait || true
	create ex2
	[ "$status" -eq 0 ]
	jq -e '.container == "ex2"' "$claim"
}

@test "exclusive with isolation.compute_mode: EXCLUSIVE_PROCESS set through NVML, the previous mode restored at delete" {
	write_config 'compute_mode = true'
	u0=$(uuid_of 0)
	echo 2 >"$NVB_STANDIN_COMPUTE_MODE_DIR/$u0" # prohibited before: what must come back
	new_bundle ex1 0 exclusive
	create ex1
	[ "$status" -eq 0 ]
	[ "$(cat "$NVB_STANDIN_COMPUTE_MODE_DIR/$u0")" = 3 ]
	jq -e '.compute_mode_previous == 2' "$NVBIND_STATE_DIR/isolation/claims/$u0.json"
	wrapper delete --force ex1
	[ "$status" -eq 0 ]
	[ "$(cat "$NVB_STANDIN_COMPUTE_MODE_DIR/$u0")" = 2 ]
	diff <(printf '%s 2 -> 3\n%s 3 -> 2\n' "$u0" "$u0") "$NVB_STANDIN_COMPUTE_MODE_DIR/log"
}

@test "isolation.default = exclusive applies without the annotation; shared by annotation is not claimed" {
	write_config 'default = "exclusive"'
	new_bundle d1 2
	new_bundle d2 2
	new_bundle s1 3 shared
	new_bundle s2 3 shared
	create d1
	[ "$status" -eq 0 ]
	create d2
	[ "$status" -ne 0 ]
	[[ "$output" == *"held exclusively by container d1"* ]]
	create s1
	[ "$status" -eq 0 ]
	create s2
	[ "$status" -eq 0 ]
}

@test "virtual: one MPS daemon per GPU with its env, the pipe dir mounted, limits set; quit with the last client" {
	for id in v1 v2; do new_bundle $id 0 virtual nvbind.io/gpu-memory-limit=16G nvbind.io/gpu-compute-limit=50; done
	new_bundle v3 1 virtual
	create v1
	[ "$status" -eq 0 ]
	create v2
	[ "$status" -eq 0 ]
	create v3
	[ "$status" -eq 0 ]
	cat "$NVB_STANDIN_MPS_LOG"
	u0=$(uuid_of 0)
	u1=$(uuid_of 1)
	[ "$(grep -c "daemon start.*CUDA_VISIBLE_DEVICES=$u0\$" "$NVB_STANDIN_MPS_LOG")" -eq 1 ]
	[ "$(grep -c "daemon start.*CUDA_VISIBLE_DEVICES=$u1\$" "$NVB_STANDIN_MPS_LOG")" -eq 1 ]
	[ "$(grep -c "daemon start" "$NVB_STANDIN_MPS_LOG")" -eq 2 ]
	line=$(grep "daemon start.*$u0" "$NVB_STANDIN_MPS_LOG")
	[[ "$line" == *"CUDA_MPS_PIPE_DIRECTORY=$NVBIND_STATE_DIR/isolation/mps/"*"/pipe "* ]]
	[[ "$line" == *"CUDA_MPS_LOG_DIRECTORY=$NVBIND_STATE_DIR/isolation/mps/"*"/log "* ]]
	pipe=$(sed 's/.*CUDA_MPS_PIPE_DIRECTORY=\([^ ]*\).*/\1/' <<<"$line")
	cfg="$BATS_TEST_TMPDIR/v1/config.json"
	jq -e --arg p "$pipe" 'any(.mounts[]; .source == $p and .destination == "/run/nvidia-mps")' "$cfg"
	jq -e '.process.env | index("CUDA_MPS_PIPE_DIRECTORY=/run/nvidia-mps") and
		index("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=50") and index("CUDA_MPS_PINNED_DEVICE_MEM_LIMIT=0=16G")' "$cfg"
	jq -e '[.process.env[] | select(startswith("CUDA_MPS_ACTIVE"))] | length == 0' "$BATS_TEST_TMPDIR/v3/config.json"
	# the container sees the daemon's control socket and its /dev/shm, not the host's
	shm="${pipe%/pipe}/shm"
	jq -e --arg s "$shm" '[.mounts[] | select(.destination == "/dev/shm")] == [{"destination": "/dev/shm",
		"type": "bind", "source": $s, "options": ["rbind", "rw", "nosuid"]}]' "$cfg"
	[ -s "$shm/nvb-mps-standin" ]
	[ ! -e /dev/shm/nvb-mps-standin ]
	runc --root "$STATE" start v1
	run -0 runc --root "$STATE" exec v1 ls /run/nvidia-mps /dev/shm
	[[ "$output" == *control* ]]
	[[ "$output" == *nvb-mps-standin* ]]
	wrapper delete --force v1
	[ "$status" -eq 0 ]
	run ! grep -q "command=quit" "$NVB_STANDIN_MPS_LOG"
	wrapper delete --force v2
	[ "$status" -eq 0 ]
	[ "$(grep -c "daemon command=quit" "$NVB_STANDIN_MPS_LOG")" -eq 1 ]
	grep "client command=quit.*CUDA_MPS_PIPE_DIRECTORY=$pipe .*CUDA_VISIBLE_DEVICES=$u0\$" "$NVB_STANDIN_MPS_LOG"
	wrapper delete --force v3
	[ "$(grep -c "daemon command=quit" "$NVB_STANDIN_MPS_LOG")" -eq 2 ]
	[ "$(grep -c "daemon exit" "$NVB_STANDIN_MPS_LOG")" -eq 2 ]
}

@test "virtual: a client gone without delete is dropped the next time, and the daemon stops with the last" {
	new_bundle v1 0 virtual
	new_bundle v2 0 virtual
	create v1
	[ "$status" -eq 0 ]
	kill -9 "$(init_pid v1)"
	for _ in $(seq 50); do [ "$(runc --root "$STATE" state v1 | jq -r .status)" = stopped ] && break; sleep 0.1; done
	create v2
	[ "$status" -eq 0 ]
	[ "$(grep -c "daemon start" "$NVB_STANDIN_MPS_LOG")" -eq 1 ] # still the same daemon
	wrapper delete --force v2
	[ "$(grep -c "daemon command=quit" "$NVB_STANDIN_MPS_LOG")" -eq 1 ]
	grep -q "MPS client v1 .* is gone without delete: dropped" "$LOG"
}

@test "limits without virtual, an unknown level, and a bad size are refused before runc" {
	new_bundle b1 0 exclusive nvbind.io/gpu-memory-limit=16G
	create b1
	[ "$status" -ne 0 ]
	[[ "$output" == *"enforced only by MPS (virtual), not with exclusive isolation"* ]]
	new_bundle b2 0 private
	create b2
	[ "$status" -ne 0 ]
	[[ "$output" == *'nvbind.io/isolation: unknown level "private"'* ]]
	new_bundle b3 0 virtual nvbind.io/gpu-memory-limit=lots
	create b3
	[ "$status" -ne 0 ]
	[[ "$output" == *'nvbind.io/gpu-memory-limit: "lots" is not a size'* ]]
	[ ! -e "$NVBIND_STATE_DIR/isolation/claims" ] || [ -z "$(ls "$NVBIND_STATE_DIR/isolation/claims")" ]
}

@test "NVBIND_ISOLATION in the container's environment (bolt's way) claims like the annotation; the annotation wins; a bad word names the variable" {
	new_bundle ev1 0
	bundle_edit "$BATS_TEST_TMPDIR/ev1" '.process.env += ["NVBIND_ISOLATION=exclusive"]'
	create ev1
	[ "$status" -eq 0 ]
	u0=$(uuid_of 0)
	jq -e '.container == "ev1"' "$NVBIND_STATE_DIR/isolation/claims/$u0.json"
	# the annotation says shared: the variable is not used, so nothing of GPU 1 is claimed
	new_bundle ev2 1 shared
	bundle_edit "$BATS_TEST_TMPDIR/ev2" '.process.env += ["NVBIND_ISOLATION=exclusive"]'
	create ev2
	[ "$status" -eq 0 ]
	[ ! -e "$NVBIND_STATE_DIR/isolation/claims/$(uuid_of 1).json" ]
	new_bundle ev3 2
	bundle_edit "$BATS_TEST_TMPDIR/ev3" '.process.env += ["NVBIND_ISOLATION=private"]'
	create ev3
	[ "$status" -ne 0 ]
	[[ "$output" == *'environment variable NVBIND_ISOLATION: unknown level "private"'* ]]
}

@test "exclusive: a delete runc refuses (running, no --force) keeps the claim; the forced delete releases it" {
	new_bundle kd1 0 exclusive
	create kd1
	[ "$status" -eq 0 ]
	u0=$(uuid_of 0)
	runc --root "$STATE" start kd1
	wrapper delete kd1
	[ "$status" -ne 0 ] # runc: cannot delete a running container without --force
	jq -e '.container == "kd1"' "$NVBIND_STATE_DIR/isolation/claims/$u0.json"
	new_bundle kd2 0 exclusive
	create kd2
	[ "$status" -ne 0 ]
	[[ "$output" == *"held exclusively by container kd1"* ]]
	wrapper delete --force kd1
	[ "$status" -eq 0 ]
	[ ! -e "$NVBIND_STATE_DIR/isolation/claims/$u0.json" ]
	create kd2
	[ "$status" -eq 0 ]
}
