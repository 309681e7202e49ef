#!/usr/bin/env bats
# tools/gpu-check.sh without a GPU: it says so; and a rehearsal of its whole flow on a fixture root.

bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
	ensure_roots
	export ROOTS
	PREP="$BATS_FILE_TMPDIR/prep"
	export PREP
	"$REPO/tools/gpu-check.sh" prepare "$PREP" >"$BATS_FILE_TMPDIR/prepare.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/prepare.log" >&2; return 1; }
}

@test "gpu-check on a machine without an NVIDIA GPU says so and exits 0" {
	[ -r /proc/driver/nvidia/version ] && skip "this machine has an NVIDIA driver"
	run "$REPO/tools/gpu-check.sh" run "$PREP" "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[[ "$output" == *"no NVIDIA GPU on this machine"* ]]
	grep -q "No NVIDIA GPU" "$BATS_TEST_TMPDIR/out/report.md"
}

@test "gpu-check rehearsal on the H100 fixture root: discovery, CDI and the container work" {
	NVB_GPU_CHECK_ROOT="$ROOTS/h100-host" run "$REPO/tools/gpu-check.sh" run "$PREP" "$BATS_TEST_TMPDIR/out"
	report="$BATS_TEST_TMPDIR/out/report.md"
	cat "$report"
	grep -q -- "- ok: nvbind info" "$report"
	grep -q -- "- GPUs found: 1" "$report"
	grep -q -- "- ok: nvbind cdi generate" "$report"
	grep -q -- "- ok: nvbind cdi validate" "$report"
	# the stand-in nvidia-smi ran inside the container with GPU 0's node
	grep -q "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a)" "$report"
	grep -q "/dev/nvidia0" "$report"
	if [ -x "$PREP/bin/cuda-check" ]; then
		# the stand-in libcuda is no CUDA driver: the CUDA program must fail, and is reported
		[ "$status" -eq 1 ]
		grep -q "FAILED: the CUDA program did not report a correct result" "$report"
	fi
}
