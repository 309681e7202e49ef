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
	# the image: the driver's libraries found, their glibc needs listed
	grep -q -- "- driver libraries: .*libcuda.so.580.159.04" "$report"
	grep -q -- "- glibc libraries they need: libc.so.6" "$report"
	# libcuda and libnvidia-ml load by name through the wrapper and through the CDI spec alone
	grep -Eq -- "- (ok|FAILED \(1\)): container through nvbind-runtime" "$report"
	grep -Eq -- "- (ok|FAILED \(1\)): container through the CDI spec \((podman|runc)\)" "$report"
	[ "$(grep -c '^libcuda.so.1 ok$' "$report")" -eq 2 ]
	[ "$(grep -c '^libnvidia-ml.so.1 ok$' "$report")" -eq 2 ]
	[ "$(grep -c '^GPU 0: NVIDIA H100' "$report")" -eq 2 ]
	if [ -x "$PREP/bin/cuda-check" ]; then
		# the stand-in libcuda is no CUDA driver: the CUDA program must fail, and is reported
		[ "$status" -eq 1 ]
		grep -q "FAILED: the CUDA program did not report a correct result in the container through nvbind-runtime" "$report"
		grep -q "FAILED: the CUDA program did not report a correct result in the container through the CDI spec" "$report"
	else
		[ "$status" -eq 0 ]
	fi
}

@test "gpu-check rehearsal: a glibc library the driver needs and the image lacks is copied in; runc with the spec applied" {
	# the prepared image without libc.so.6: the driver's libcuda needs it (DT_NEEDED), so the
	# run must copy it from the prepared glibc, or nothing in the containers could start
	mv "$PREP/rootfs/lib/x86_64-linux-gnu/libc.so.6" "$BATS_TEST_TMPDIR/"
	NVB_GPU_CHECK_CDI_ENGINE=runc NVB_GPU_CHECK_ROOT="$ROOTS/h100-host" run "$REPO/tools/gpu-check.sh" run "$PREP" "$BATS_TEST_TMPDIR/out"
	mv "$BATS_TEST_TMPDIR/libc.so.6" "$PREP/rootfs/lib/x86_64-linux-gnu/"
	report="$BATS_TEST_TMPDIR/out/report.md"
	cat "$report"
	grep -q -- "- copied into the image: libc.so.6" "$report"
	grep -Eq -- "- (ok|FAILED \(1\)): container through the CDI spec \(runc\)" "$report"
	[ "$(grep -c '^libcuda.so.1 ok$' "$report")" -eq 2 ]
}

@test "gpu-check: a container check that fails makes the whole run fail" {
	# an image whose dlopen probe cannot run: both container checks fail, the exit status is 1
	mv "$PREP/rootfs/usr/bin/dlopen-probe" "$BATS_TEST_TMPDIR/"
	NVB_GPU_CHECK_ROOT="$ROOTS/h100-host" run "$REPO/tools/gpu-check.sh" run "$PREP" "$BATS_TEST_TMPDIR/out"
	mv "$BATS_TEST_TMPDIR/dlopen-probe" "$PREP/rootfs/usr/bin/"
	[ "$status" -eq 1 ]
	grep -q -- "- FAILED (127): container through nvbind-runtime" "$BATS_TEST_TMPDIR/out/report.md"
	grep -Eq -- "- FAILED \([0-9]+\): container through the CDI spec" "$BATS_TEST_TMPDIR/out/report.md"
}
