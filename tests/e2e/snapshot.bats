#!/usr/bin/env bats
# GPU snapshots (docs/snapshot.md): nvbind gpu checkpoint|restore|state against the fixture
# root's stand-in libcuda, whose cuCheckpointProcess* calls keep a per-process state machine in
# $NVB_STANDIN_CUDA_STATE and log every call in order (tests/fixtures/standins/libcuda.c). The
# CUDA processes are real: a small program that loads libcuda.so.1, calls cuInit and waits,
# on this machine and inside a runc container started through nvbind-runtime.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

# A stand-in CUDA process: loads libcuda.so.1 (argv[1], else by name through the loader),
# cuInit(0), prints "ready", then waits for a signal.
write_cuda_proc() {
	cat >"$1" <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	void *h = dlopen(argc > 1 ? argv[1] : "libcuda.so.1", RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	int (*init)(unsigned) = (int (*)(unsigned))dlsym(h, "cuInit");
	int rc = init ? init(0) : -1;
	if (rc != 0) {
		printf("cuInit: %d\n", rc);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
EOF
}

setup_file() {
	ensure_roots
	export ROOTS
	write_cuda_proc "$BATS_FILE_TMPDIR/cuda-proc.c"
	cc -O1 -Wall -Werror -o "$BATS_FILE_TMPDIR/cuda-proc" "$BATS_FILE_TMPDIR/cuda-proc.c"
}

setup() {
	R="$ROOTS/h100-host"
	export NVBIND_ROOT="$R" # the nvbind that nvbind-runtime runs for the GPU step
	LIBCUDA="$R/usr/local/nvidia/lib64/libcuda.so.1"
	export NVB_STANDIN_CUDA_STATE="$BATS_TEST_TMPDIR/cuda-state"
	mkdir -p "$NVB_STANDIN_CUDA_STATE"
	LOG="$NVB_STANDIN_CUDA_STATE/calls.log"
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "${CSTATE:-}" ]; then
		runc --root "$CSTATE" delete -f "c$BATS_TEST_NUMBER" 2>/dev/null || true
	fi
}

# start_cuda N: N stand-in CUDA processes on this machine, pids in P1..PN and PIDS
start_cuda() {
	local i out
	for ((i = 1; i <= $1; i++)); do
		out="$BATS_TEST_TMPDIR/proc$i.out"
		"$BATS_FILE_TMPDIR/cuda-proc" "$LIBCUDA" >"$out" 3>&- &
		PIDS+=($!)
		printf -v "P$i" '%s' "$!"
		for _ in $(seq 50); do grep -q ready "$out" && break; sleep 0.1; done
		grep -q ready "$out" || { cat "$out"; return 1; }
	done
}

# calls: the stand-in's call log without the results' " -> 0"
calls() { sed 's/ -> 0$//' "$LOG"; }

nv() { "$NVBIND" --root "$R" "$@"; }

@test "gpu checkpoint and restore by pid: each state, and the driver calls in order" {
	start_cuda 2
	run -0 nv gpu state --pid "$P1" --pid "$P2"
	[ "$output" = "pid $P1: running
pid $P2: running" ]
	run -0 nv gpu checkpoint --pid "$P1" --pid "$P2"
	[ "$output" = "pid $P1: checkpointed
pid $P2: checkpointed" ]
	run -0 nv gpu state --pid "$P2" --pid "$P1"
	[ "$output" = "pid $P2: checkpointed
pid $P1: checkpointed" ]
	run -0 nv gpu restore --pid "$P1" --pid "$P2"
	[ "$output" = "pid $P1: running
pid $P2: running" ]
	# lock all, checkpoint all (given order); restore all, unlock all (reverse order)
	[ "$(calls)" = "lock $P1 timeout=10000
lock $P2 timeout=10000
checkpoint $P1
checkpoint $P2
restore $P2
restore $P1
unlock $P2
unlock $P1" ]
	kill -0 "$P1" "$P2"
}

@test "gpu checkpoint --timeout reaches the lock call; --json report" {
	start_cuda 1
	run -0 nv gpu checkpoint --pid "$P1" --timeout 2500 --json
	[ "$(jqo .operation)" = checkpoint ]
	[ "$(jqo '.processes[0].pid')" = "$P1" ]
	[ "$(jqo '.processes[0].state')" = checkpointed ]
	[ "$(jqo '.processes[0].outcome')" = done ]
	grep -qx "lock $P1 timeout=2500 -> 0" "$LOG"
	run -0 nv gpu state --pid "$P1" --json
	[ "$(jqo '.processes[0].state')" = checkpointed ]
	run -0 nv gpu restore --pid "$P1" --json
	[ "$(jqo '.processes[0].state')" = running ]
	# restoring a running process changes nothing
	run -0 nv gpu restore --pid "$P1"
	[[ "$output" == "pid $P1: running: already running" ]]
}

@test "checkpoint failing part-way rolls back what was done, in reverse order" {
	start_cuda 3
	echo "checkpoint $P2" >"$NVB_STANDIN_CUDA_STATE/fail"
	run -1 nv gpu checkpoint --pid "$P1" --pid "$P2" --pid "$P3"
	echo "$output"
	[[ "$output" == *"pid $P1: running (rolled back)"* ]]
	[[ "$output" == *"pid $P2: running (FAILED): cuCheckpointProcessCheckpoint failed: CUDA error 999"* ]]
	[[ "$output" == *"pid $P3: running (rolled back)"* ]]
	[[ "$output" == *"every process was rolled back"* ]]
	[ "$(calls)" = "lock $P1 timeout=10000
lock $P2 timeout=10000
lock $P3 timeout=10000
checkpoint $P1
checkpoint $P2 -> 999
restore $P1
unlock $P3
unlock $P2
unlock $P1" ]
	run -0 nv gpu state --pid "$P1" --pid "$P2" --pid "$P3"
	[ "$(grep -c ': running$' <<<"$output")" -eq 3 ]
}

@test "a failing lock unlocks the processes locked before it; later ones are not touched" {
	start_cuda 3
	echo "lock $P3 909" >"$NVB_STANDIN_CUDA_STATE/fail"
	run -1 nv gpu checkpoint --pid "$P1" --pid "$P2" --pid "$P3"
	[[ "$output" == *"CUDA error 909"* ]]
	[[ "$output" == *"raise --timeout"* ]]
	[ "$(calls)" = "lock $P1 timeout=10000
lock $P2 timeout=10000
lock $P3 timeout=10000 -> 909
unlock $P2
unlock $P1" ]
}

@test "a rollback that fails is reported as not undone (exit 4); a later restore recovers" {
	start_cuda 2
	printf 'checkpoint %s\nrestore %s\n' "$P2" "$P1" >"$NVB_STANDIN_CUDA_STATE/fail"
	run -4 nv gpu checkpoint --pid "$P1" --pid "$P2"
	echo "$output"
	[[ "$output" == *"pid $P1: checkpointed (NOT UNDONE)"*"rollback: cuCheckpointProcessRestore failed"*"could not be undone: left checkpointed"* ]]
	[[ "$output" == *"could not be undone for pid $P1"* ]]
	run -0 nv gpu state --pid "$P1" --pid "$P2"
	[ "$output" = "pid $P1: checkpointed
pid $P2: running" ]
	rm "$NVB_STANDIN_CUDA_STATE/fail"
	run -0 nv gpu restore --pid "$P1" --pid "$P2"
	[[ "$output" == "pid $P1: running
pid $P2: running: already running" ]]
}

@test "restore continues past a failing process and says which (exit 3)" {
	start_cuda 2
	run -0 nv gpu checkpoint --pid "$P1" --pid "$P2"
	echo "restore $P2" >"$NVB_STANDIN_CUDA_STATE/fail"
	run -3 nv gpu restore --pid "$P1" --pid "$P2"
	[[ "$output" == *"pid $P1: running"* ]]
	[[ "$output" == *"pid $P2: checkpointed (FAILED): cuCheckpointProcessRestore failed"* ]]
	[[ "$output" == *"restore failed for 1 of 2 processes: pid $P2"* ]]
}

@test "checkpoint refuses processes that are not running CUDA processes and touches nothing" {
	start_cuda 2
	sleep 1000 &
	PIDS+=($!)
	run -1 nv gpu checkpoint --pid "$P1" --pid "$!"
	[[ "$output" == *"cannot checkpoint pid $!"*"no process was changed"* ]]
	[ ! -s "$LOG" ]
	run -3 nv gpu state --pid "$P1" --pid "$!"
	[[ "$output" == *"pid $!: unknown (FAILED): cuCheckpointProcessGetState failed: CUDA error 1"* ]]
	run -0 nv gpu checkpoint --pid "$P2"
	run -1 nv gpu checkpoint --pid "$P1" --pid "$P2"
	[[ "$output" == *"the process is checkpointed, not running: restore it first"* ]]
	[ "$(grep -c "$P1" "$LOG")" -eq 0 ]
}

@test "gpu: usage errors exit 2" {
	run -2 "$NVBIND" gpu
	run -2 "$NVBIND" gpu snapshot --pid 1
	[[ "$output" == *"unknown gpu command 'snapshot'"* ]]
	run -2 "$NVBIND" gpu checkpoint
	run -2 "$NVBIND" gpu checkpoint --pid 1 --container x
	run -2 "$NVBIND" gpu state --pid abc
	run -2 "$NVBIND" gpu state --pid 1 --runtime-root /run/runc
	run -2 "$NVBIND" gpu checkpoint --pid 1 --timeout 0
	run -0 "$NVBIND" gpu --help
	[[ "$output" == *"Exit status"* ]]
}

@test "a driver without the checkpoint API is named, with the driver needed" {
	local root="$BATS_TEST_TMPDIR/old-driver"
	mkdir -p "$root/usr/lib/x86_64-linux-gnu" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
	printf 'int cuInit(unsigned f) { return (int)f; }\nint cuDriverGetVersion(int *v) { *v = 12040; return 0; }\n' >"$BATS_TEST_TMPDIR/old.c"
	cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$root/usr/lib/x86_64-linux-gnu/libcuda.so.1" "$BATS_TEST_TMPDIR/old.c"
	echo /usr/lib/x86_64-linux-gnu >"$root/etc/ld.so.conf"
	ldconfig -r "$root"
	run -1 "$NVBIND" --root "$root" gpu state --pid $$
	[[ "$output" == *"libcuda.so.1 (CUDA 12.4) has no cuCheckpointProcessLock"* ]]
	[[ "$output" == *"r570 or later"* ]]
	run -1 "$NVBIND" --root "$ROOTS/no-libs" gpu state --pid $$
	[[ "$output" == *"libcuda.so.1 is not in the library set"* ]]
}

# ---------------------------------------------------------------- containers

# start_container ID SCRIPT: a detached runc container started through nvbind-runtime with
# GPU 0 of the h100 fixture (CDI), its state under $CSTATE
start_container() {
	need_engine runc
	make_rootfs "$BATS_TEST_TMPDIR/rootfs"
	cp "$BATS_FILE_TMPDIR/cuda-proc" "$BATS_TEST_TMPDIR/rootfs/usr/bin/cuda-proc"
	B="$BATS_TEST_TMPDIR/bundle"
	make_bundle "$B" "$BATS_TEST_TMPDIR/rootfs" "$2"
	bundle_edit "$B" '.annotations["cdi.k8s.io/gpu"] = "nvidia.com/gpu=0"'
	"$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/h100.json" 2>/dev/null
	CSTATE="$BATS_TEST_TMPDIR/runc-state"
	"$WITH_SPECS" "$BATS_TEST_TMPDIR/h100.json" -- "$RUNTIME" --root "$CSTATE" run -d -b "$B" "$1" \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/run.err" || { cat "$BATS_TEST_TMPDIR/run.err"; return 1; }
	INIT=$(runc --root "$CSTATE" state "$1" | jq -r .pid)
	# wait for the CUDA process of the container (a child of its shell) to be ready
	for _ in $(seq 50); do
		CPID=$(pgrep -P "$INIT" cuda-proc || true)
		[ -n "$CPID" ] && grep -q nvbind-standin-cuda "/proc/$CPID/maps" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no CUDA process in the container"
	return 1
}

@test "gpu checkpoint --container: only the CUDA processes of the container's cgroup" {
	start_container "c$BATS_TEST_NUMBER" 'cuda-proc & sleep 1000 & wait'
	run -0 nv gpu state --container "c$BATS_TEST_NUMBER" --runtime-root "$CSTATE"
	[ "$output" = "pid $CPID: running" ]
	run -0 nv gpu checkpoint --container "c$BATS_TEST_NUMBER" --runtime-root "$CSTATE" --json
	[ "$(jqo '.processes | length')" -eq 1 ]
	[ "$(jqo '.processes[0].pid')" = "$CPID" ]
	[ "$(jqo '.processes[0].state')" = checkpointed ]
	run -0 nv gpu state --pid "$CPID"
	[ "$output" = "pid $CPID: checkpointed" ]
	run -0 nv gpu restore --container "c$BATS_TEST_NUMBER" --runtime-root "$CSTATE"
	[ "$output" = "pid $CPID: running" ]
	[ "$(calls)" = "lock $CPID timeout=10000
checkpoint $CPID
restore $CPID
unlock $CPID" ]
	# the OCI state document works as well as the id
	run -0 nv gpu state --container "$(runc --root "$CSTATE" state "c$BATS_TEST_NUMBER")"
	[ "$output" = "pid $CPID: running" ]
}

@test "gpu --container: a container without CUDA processes, an unknown container" {
	start_container "c$BATS_TEST_NUMBER" 'cuda-proc & sleep 1000 & wait'
	run -1 nv gpu checkpoint --container nope --runtime-root "$CSTATE"
	[[ "$output" == *"state nope' failed"* ]]
	kill "$CPID"
	run -0 nv gpu checkpoint --container "c$BATS_TEST_NUMBER" --runtime-root "$CSTATE"
	[[ "$output" == *"has no CUDA process: nothing to checkpoint"* ]]
	[ ! -s "$LOG" ]
	# no process maps libcuda: the driver is not even needed (a host without one)
	run -0 "$NVBIND" --root "$ROOTS/no-libs" gpu checkpoint --container "c$BATS_TEST_NUMBER" --runtime-root "$CSTATE"
	[[ "$output" == *"has no CUDA process"* ]]
}

@test "nvbind-runtime checkpoint with runc: CRIU fails here, the GPU state comes back, the container runs on" {
	start_container "c$BATS_TEST_NUMBER" 'cuda-proc & sleep 1000 & wait'
	# CRIU 3.17 cannot dump on this kernel (its vDSO); without criu runc fails the same way.
	# Either way runc checkpoint fails after nvbind locked and checkpointed the GPU state.
	run "$RUNTIME" --root "$CSTATE" checkpoint --image-path "$BATS_TEST_TMPDIR/img" "c$BATS_TEST_NUMBER"
	echo "$output"
	if [ "$status" -eq 0 ]; then
		skip "runc checkpoint works on this machine: the failure path needs a failing CRIU"
	fi
	[ "$(calls)" = "lock $CPID timeout=10000
checkpoint $CPID
restore $CPID
unlock $CPID" ]
	[ "$(runc --root "$CSTATE" state "c$BATS_TEST_NUMBER" | jq -r .status)" = running ]
	run -0 nv gpu state --pid "$CPID"
	[ "$output" = "pid $CPID: running" ]
}

# stub_runc DIR: a `runc` that logs checkpoint and restore into the stand-in's call log
# (exit status $STUB_RC) and hands every other command to the real runc
stub_runc() {
	mkdir -p "$1"
	cat >"$1/runc" <<EOF
#!/bin/sh
for a in "\$@"; do
	case "\$a" in
	checkpoint|restore) echo "runc \$*" >>"$LOG"; exit \${STUB_RC:-0} ;;
	state|list|delete|kill|run|create|start) break ;;
	esac
done
exec $(PATH=$PATH:/usr/sbin command -v runc) "\$@"
EOF
	chmod +x "$1/runc"
}

@test "nvbind-runtime checkpoint: GPU checkpoint before runc's, left checkpointed; restore -d restores after runc's" {
	start_container "c$BATS_TEST_NUMBER" 'cuda-proc & sleep 1000 & wait'
	stub_runc "$BATS_TEST_TMPDIR/stub"
	id="c$BATS_TEST_NUMBER"
	PATH="$BATS_TEST_TMPDIR/stub:$PATH" run -0 "$RUNTIME" --root "$CSTATE" checkpoint --image-path /img --work-path /work "$id"
	run -0 nv gpu state --pid "$CPID"
	[ "$output" = "pid $CPID: checkpointed" ]
	PATH="$BATS_TEST_TMPDIR/stub:$PATH" run -0 "$RUNTIME" --root "$CSTATE" restore -d --image-path /img -b "$B" "$id"
	[ "$(calls)" = "lock $CPID timeout=10000
checkpoint $CPID
runc --root $CSTATE checkpoint --image-path /img --work-path /work $id
runc --root $CSTATE restore -d --image-path /img -b $B $id
restore $CPID
unlock $CPID" ]
}

@test "nvbind-runtime checkpoint --leave-running restores the GPU state after runc's; a failed GPU checkpoint stops before runc" {
	start_container "c$BATS_TEST_NUMBER" 'cuda-proc & sleep 1000 & wait'
	stub_runc "$BATS_TEST_TMPDIR/stub"
	id="c$BATS_TEST_NUMBER"
	PATH="$BATS_TEST_TMPDIR/stub:$PATH" run -0 "$RUNTIME" --root "$CSTATE" checkpoint --leave-running "$id"
	[ "$(calls)" = "lock $CPID timeout=10000
checkpoint $CPID
runc --root $CSTATE checkpoint --leave-running $id
restore $CPID
unlock $CPID" ]
	: >"$LOG"
	echo "checkpoint $CPID" >"$NVB_STANDIN_CUDA_STATE/fail"
	PATH="$BATS_TEST_TMPDIR/stub:$PATH" run -1 "$RUNTIME" --root "$CSTATE" checkpoint "$id"
	[[ "$output" == *"nvbind gpu checkpoint of container $id failed"*"keeps running"* ]]
	! grep -q "^runc" "$LOG"
	# the failing stub: runc checkpoint fails, the GPU state is restored, runc's status kept
	rm "$NVB_STANDIN_CUDA_STATE/fail"
	: >"$LOG"
	STUB_RC=7 PATH="$BATS_TEST_TMPDIR/stub:$PATH" run -7 "$RUNTIME" --root "$CSTATE" checkpoint "$id"
	[ "$(calls)" = "lock $CPID timeout=10000
checkpoint $CPID
runc --root $CSTATE checkpoint $id
restore $CPID
unlock $CPID" ]
}

@test "nvbind-runtime restore in the foreground: the GPU state is restored once the container answers" {
	start_container "c$BATS_TEST_NUMBER" 'cuda-proc & sleep 1000 & wait'
	stub_runc "$BATS_TEST_TMPDIR/stub"
	id="c$BATS_TEST_NUMBER"
	PATH="$BATS_TEST_TMPDIR/stub:$PATH" run -0 "$RUNTIME" --root "$CSTATE" checkpoint "$id"
	# without -d the runtime becomes runc restore (here the stub, which returns at once); a
	# child of the wrapper waits until `runc state` answers, then restores the GPU state
	PATH="$BATS_TEST_TMPDIR/stub:$PATH" run -0 "$RUNTIME" --root "$CSTATE" restore -b "$B" "$id"
	for _ in $(seq 50); do grep -q "^unlock $CPID" "$LOG" && break; sleep 0.1; done
	[ "$(calls)" = "lock $CPID timeout=10000
checkpoint $CPID
runc --root $CSTATE checkpoint $id
runc --root $CSTATE restore -b $B $id
restore $CPID
unlock $CPID" ]
}
