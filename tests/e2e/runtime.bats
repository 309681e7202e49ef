#!/usr/bin/env bats
# nvbind-runtime with the real runc: every request form, pass-through commands, hostile bundles.

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
	for root in h100-host debian-4gpu; do
		"$NVBIND" --root "$ROOTS/$root" cdi generate --output "$BATS_FILE_TMPDIR/$root.json" 2>/dev/null
		# every driver file a mount of its own (no driver folder)
		"$NVBIND" --root "$ROOTS/$root" cdi generate --no-driver-folder --output "$BATS_FILE_TMPDIR/$root-files.json" 2>/dev/null
	done
}

setup() {
	engine_skip
	STATE="$BATS_TEST_TMPDIR/runc-state"
	B="$BATS_TEST_TMPDIR/bundle"
	export NVBIND_LOG_LEVEL=debug
	LOG=/var/log/nvbind-runtime.log
}

NODES='for n in /dev/nvidia[0-9]*; do [ -e "$n" ] && echo "node $n"; done; true'

# run_bundle SPEC|- [ENV...]: run the bundle through nvbind-runtime with SPEC installed
run_bundle() {
	local spec=$1
	shift
	if [ "$spec" = - ]; then
		run "$WITH_SPECS" -- env "$@" "$RUNTIME" --root "$STATE" run -b "$B" "c$BATS_TEST_NUMBER"
	else
		run "$WITH_SPECS" "$BATS_FILE_TMPDIR/$spec.json" -- env "$@" "$RUNTIME" --root "$STATE" run -b "$B" "c$BATS_TEST_NUMBER"
	fi
	echo "$output"
}

@test "runc bundle with a cdi.k8s.io annotation gets the device, libcuda and nvidia-smi" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$NODES; probe-cuda; nvidia-smi -L"
	bundle_edit "$B" '.annotations["cdi.k8s.io/gpu"] = "nvidia.com/gpu=0"'
	run_bundle debian-4gpu
	[ "$status" -eq 0 ]
	[ "$(grep -c '^node ' <<<"$output")" -eq 1 ]
	[[ "$output" == *"node /dev/nvidia2"* ]]
	[[ "$output" == *"nvbind-standin libcuda 550.54.14"* ]]
	[ "$(grep -c '^GPU ' <<<"$output")" -eq 1 ]
}

@test "NVIDIA_VISIBLE_DEVICES: every request form" {
	cases=(
		"all|/dev/nvidia0 /dev/nvidia1 /dev/nvidia2 /dev/nvidia3"
		"0|/dev/nvidia2"
		"0,2|/dev/nvidia2 /dev/nvidia3"
		"3|/dev/nvidia1"
		"GPU-9e7c2b18-3d4f-5a60-b1c2-7f8e9a0d1c23|/dev/nvidia0"
		"1:0|/dev/nvidia0"
		"MIG-2a4c6e80-1b3d-5f7a-9c0e-2d4f6a8c0e12|/dev/nvidia0"
		"nvidia.com/gpu=3|/dev/nvidia1"
		"none|"
		"void|"
		"|"
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r value expect <<<"$c"
		rm -rf "$B"
		make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$NODES; ls /dev/nvidiactl 2>/dev/null; true"
		bundle_env "$B" "NVIDIA_VISIBLE_DEVICES=$value"
		run_bundle debian-4gpu
		[ "$status" -eq 0 ]
		got=$(grep '^node ' <<<"$output" | sed 's/^node //' | sort | xargs)
		echo "NVIDIA_VISIBLE_DEVICES=$value -> [$got] expected [$expect]"
		[ "$got" = "$expect" ]
		case "$value" in
		none) [[ "$output" == *"/dev/nvidiactl"* ]] ;; # driver, no GPU
		void | "") [[ "$output" != *"/dev/nvidiactl"* ]] ;;
		esac
	done
}

@test "NVBIND_VISIBLE_DEVICES wins over NVIDIA_VISIBLE_DEVICES; MIG gets its cap nodes" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$NODES; ls /dev/nvidia-caps"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=all NVBIND_VISIBLE_DEVICES=1:1
	run_bundle debian-4gpu
	[ "$status" -eq 0 ]
	[ "$(grep '^node ' <<<"$output" | xargs)" = "node /dev/nvidia0" ]
	[[ "$output" == *"nvidia-cap21"*"nvidia-cap22"* ]]
}

# cached NAME: where the container's loader cache sends NAME (all architectures), sorted
cached() { ldconfig -p -C "$B/rootfs/etc/ld.so.cache" | awk -v n="$1" '$1 == n {print $NF}' | sort | xargs; }

@test "NVIDIA_DRIVER_CAPABILITIES selects driver files (driver folder: what is registered and linked)" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "ls /usr/bin; nvidia-smi -L; true"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0
	run_bundle debian-4gpu
	[ "$status" -eq 0 ]
	# default: compute, utility. The folder holds every file; the cache and the links only these
	[ "$(cached libcuda.so.1)" = /usr/lib/nvbind/lib/libcuda.so.1 ]
	[ "$(cached libnvidia-ml.so.1)" = /usr/lib/nvbind/lib/libnvidia-ml.so.1 ]
	[ -z "$(cached libGLX_nvidia.so.0)" ] && [ -z "$(cached libnvcuvid.so.1)" ]
	[ "$(grep -v '^#' "$B/rootfs/etc/ld.so.conf.d/00-nvbind.conf")" = /usr/lib/nvbind/lib ]
	[ "$(readlink "$B/rootfs/usr/bin/nvidia-smi")" = /usr/lib/nvbind/bin/nvidia-smi ]
	[[ "$output" == *"GPU 0: "* ]] # the program runs through its link
	[ ! -e "$B/rootfs/usr/share/vulkan/icd.d/nvidia_icd.json" ]
	[ -z "$(ls -A "$B/rootfs/usr/lib/nvbind")" ] # runc's mount point: nothing written under it
	rm -rf "$B"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "ls /dev/dri"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0 NVIDIA_DRIVER_CAPABILITIES=graphics,compat32
	run_bundle debian-4gpu
	[ "$status" -eq 0 ]
	[ "$(cached libGLX_nvidia.so.0)" = "/usr/lib/nvbind/lib/libGLX_nvidia.so.0 /usr/lib/nvbind/lib32/libGLX_nvidia.so.0" ]
	[ -z "$(cached libcuda.so.1)" ]
	[ "$(grep -v '^#' "$B/rootfs/etc/ld.so.conf.d/00-nvbind.conf" | xargs)" = "/usr/lib/nvbind/lib /usr/lib/nvbind/lib32" ]
	[ -L "$B/rootfs/usr/share/vulkan/icd.d/nvidia_icd.json" ]
	[[ "$output" == *"card1"* ]]
}

@test "NVIDIA_DRIVER_CAPABILITIES selects driver files" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "ls /usr/lib/x86_64-linux-gnu /usr/lib/i386-linux-gnu /usr/bin 2>/dev/null; true"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0
	run_bundle debian-4gpu-files
	[ "$status" -eq 0 ]
	# links and loader folders follow exactly the mounted files: no i386 folder, no GLX link
	[ ! -e "$B/rootfs/usr/lib/i386-linux-gnu" ]
	[ ! -L "$B/rootfs/usr/lib/x86_64-linux-gnu/libGLX_indirect.so.0" ]
	[ "$(grep -v '^#' "$B/rootfs/etc/ld.so.conf.d/00-nvbind.conf")" = /usr/lib/x86_64-linux-gnu ]
	[[ "$output" == *"libcuda.so.550.54.14"* ]]       # default: compute, utility
	[[ "$output" == *"nvidia-smi"* ]]
	[[ "$output" != *"libGLX_nvidia.so.550.54.14"* ]]
	[[ "$output" != *"libnvcuvid"* ]]
	rm -rf "$B"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "ls /usr/lib/x86_64-linux-gnu /usr/lib/i386-linux-gnu 2>/dev/null; ls /dev/dri"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0 NVIDIA_DRIVER_CAPABILITIES=graphics,compat32
	run_bundle debian-4gpu-files
	[ "$status" -eq 0 ]
	[[ "$output" == *"libGLX_nvidia.so.550.54.14"* ]]
	[[ "$output" == *"card1"* ]]
	[[ "$output" != *"libcuda.so.550.54.14"* ]]
	rm -rf "$B"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "true"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0 NVIDIA_DRIVER_CAPABILITIES=compute,bogus
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"NVIDIA_DRIVER_CAPABILITIES: unknown driver capability 'bogus'"* ]]
}

@test "NVIDIA_REQUIRE_CUDA: an unsatisfied constraint fails with the constraint and the value" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "echo started"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0 "NVIDIA_REQUIRE_CUDA=cuda>=12.8 brand=tesla,driver>=550,driver<551"
	cp "$B/config.json" "$BATS_TEST_TMPDIR/before.json"
	# the driver version comes from the host root's /proc/driver/nvidia/version
	export NVBIND_ROOT="$ROOTS/debian-4gpu"
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"unsatisfied requirement NVIDIA_REQUIRE_CUDA: cuda>=12.8 (driver 550.54.14 supports CUDA 12.4)"* ]]
	[[ "$output" != *started* ]]
	cmp "$B/config.json" "$BATS_TEST_TMPDIR/before.json" # nothing written
	# satisfied, and the brand alternatives of CUDA images
	rm -rf "$B"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "echo started"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0 "NVIDIA_REQUIRE_CUDA=cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=tesla,driver>=550,driver<551" "NVIDIA_REQUIRE_DRIVER=driver>=550"
	run_bundle debian-4gpu
	[ "$status" -eq 0 ]
	[[ "$output" == *started* ]]
	rm -rf "$B"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "echo started"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0 "NVIDIA_REQUIRE_DRIVER=driver>=560" NVIDIA_DISABLE_REQUIRE=false
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"NVIDIA_REQUIRE_DRIVER: driver>=560"* ]]
}

@test "no spec installed: a spec is generated in memory from the host root" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$NODES; probe-cuda"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a
	run_bundle - NVBIND_ROOT="$ROOTS/h100-host"
	[ "$status" -eq 0 ]
	[[ "$output" == *"node /dev/nvidia0"* ]]
	[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
	grep -q 'generated one in memory' "$LOG"
}

@test "an unknown device is a clear error and runc never starts" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "echo started"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=7
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"unresolvable CDI device nvidia.com/gpu=7"* ]]
	bundle_edit "$B" '.process.env |= map(select(startswith("NVIDIA") | not)) | .annotations["cdi.k8s.io/x"] = "nvidia.com/gpu"'
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"'nvidia.com/gpu' is not a qualified CDI device name"* ]]
	bundle_edit "$B" '.annotations = {} | .process.env += ["NVIDIA_VISIBLE_DEVICES=gpu-zero"]'
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"NVIDIA_VISIBLE_DEVICES: 'gpu-zero' is not a device"* ]]
}

@test "other commands pass through to runc unchanged: state, exec, kill, delete" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "sleep 30"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0
	# the created container keeps runc's stdio: give it files, not bats' pipe
	"$WITH_SPECS" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- "$RUNTIME" --root "$STATE" create -b "$B" pt \
		</dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1
	cp "$B/config.json" "$BATS_TEST_TMPDIR/after-create.json"
	run "$RUNTIME" --root "$STATE" state pt
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = created ]
	[ "$(jq -r .id <<<"$output")" = pt ]
	run runc --root "$STATE" state pt # runc sees the same container
	[ "$(jq -r .status <<<"$output")" = created ]
	"$RUNTIME" --root "$STATE" start pt
	"$RUNTIME" --root "$STATE" exec pt /bin/sh -c 'ls /dev/nvidia2 && echo exec-ok' </dev/null >"$BATS_TEST_TMPDIR/exec.out" 2>&1
	grep -q exec-ok "$BATS_TEST_TMPDIR/exec.out"
	run "$RUNTIME" --root "$STATE" kill pt KILL
	[ "$status" -eq 0 ]
	sleep 0.5
	run "$RUNTIME" --root "$STATE" delete --force pt
	[ "$status" -eq 0 ]
	run "$RUNTIME" --root "$STATE" state pt
	[ "$status" -ne 0 ]
	cmp "$B/config.json" "$BATS_TEST_TMPDIR/after-create.json" # only create touched it
	run "$RUNTIME" --version
	[[ "$output" == *"runc version"* ]]
}

@test "hostile bundles: huge, malformed, symlinked config.json, missing bundle" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "echo started"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0
	# huge
	cp "$B/config.json" "$BATS_TEST_TMPDIR/good.json"
	{ head -c -2 "$B/config.json"; printf ',"pad":"'; head -c 9000000 /dev/zero | tr '\0' a; printf '"}'; } >"$BATS_TEST_TMPDIR/huge.json"
	cp "$BATS_TEST_TMPDIR/huge.json" "$B/config.json"
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"more than the 8388608 allowed"* ]]
	cmp "$B/config.json" "$BATS_TEST_TMPDIR/huge.json"
	# malformed
	head -c 300 "$BATS_TEST_TMPDIR/good.json" >"$B/config.json"
	cp "$B/config.json" "$BATS_TEST_TMPDIR/bad.json"
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"config.json:"*"expected"* ]]
	cmp "$B/config.json" "$BATS_TEST_TMPDIR/bad.json"
	# symlinked
	rm "$B/config.json"
	ln -s "$BATS_TEST_TMPDIR/good.json" "$B/config.json"
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	[[ "$output" == *"config.json is a symbolic link: refused"* ]]
	cmp "$BATS_TEST_TMPDIR/good.json" "$BATS_TEST_TMPDIR/good.json"
	[ -L "$B/config.json" ]
	# wrong types inside
	rm "$B/config.json"
	jq '.process.env = "NVIDIA_VISIBLE_DEVICES=0"' "$BATS_TEST_TMPDIR/good.json" >"$B/config.json"
	run_bundle debian-4gpu
	[ "$status" -ne 0 ]
	# missing bundle
	run "$WITH_SPECS" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- "$RUNTIME" --root "$STATE" create -b /nonexistent/bundle x
	[ "$status" -ne 0 ]
	[[ "$output" == *"bundle /nonexistent/bundle"* ]]
	# no leftovers of an atomic write anywhere in the bundle
	[ -z "$(ls -A "$B" | grep tmp)" ]
}

@test "the runtime's own log goes to its file, stderr stays quiet on success" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "true"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0
	run --separate-stderr "$WITH_SPECS" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- "$RUNTIME" --root "$STATE" run -b "$B" quiet
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	grep -q "run $B: devices: nvidia.com/gpu=0" "$LOG"
}

teardown() {
	# never leave a container behind
	local c
	for c in $(runc --root "$STATE" list -q 2>/dev/null); do
		runc --root "$STATE" delete --force "$c" >/dev/null 2>&1 || true
	done
}

@test "nvidia-container-runtime-hook: hands over to NVIDIA's own hook when installed, else explains" {
	mkdir -p "$BATS_TEST_TMPDIR/ours" "$BATS_TEST_TMPDIR/nvidia"
	ln -s "$(readlink -f "$RUNTIME")" "$BATS_TEST_TMPDIR/ours/nvidia-container-runtime-hook"
	run env PATH="$BATS_TEST_TMPDIR/ours:/usr/bin:/bin" nvidia-container-runtime-hook prestart
	[ "$status" -eq 1 ]
	[[ "$output" == *"started without the nvbind runtime"* ]]
	printf '#!/bin/sh\necho "nvidia hook ran: $*"\n' >"$BATS_TEST_TMPDIR/nvidia/nvidia-container-runtime-hook"
	chmod +x "$BATS_TEST_TMPDIR/nvidia/nvidia-container-runtime-hook"
	run env PATH="$BATS_TEST_TMPDIR/ours:$BATS_TEST_TMPDIR/nvidia:/usr/bin:/bin" nvidia-container-runtime-hook prestart
	[ "$status" -eq 0 ]
	[ "$output" = "nvidia hook ran: prestart" ]
}

@test "nvidia-container-runtime-hook: two installed copies of nvbind never hand over to each other" {
	mkdir -p "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	cp "$(readlink -f "$RUNTIME")" "$BATS_TEST_TMPDIR/b/nvbind-runtime"
	ln -s "$(readlink -f "$RUNTIME")" "$BATS_TEST_TMPDIR/a/nvidia-container-runtime-hook"
	ln -s nvbind-runtime "$BATS_TEST_TMPDIR/b/nvidia-container-runtime-hook"
	run timeout 10 env PATH="$BATS_TEST_TMPDIR/a:$BATS_TEST_TMPDIR/b:/usr/bin:/bin" nvidia-container-runtime-hook prestart
	[ "$status" -eq 1 ]
	[[ "$output" == *"started without the nvbind runtime"* ]]
}

# New-user bug 1: a Mesa image keeps its own libGLX_indirect.so.0 whatever the capabilities,
# and nvbind leaves no link to a file it did not mount.
@test "the image's own libGLX_indirect.so.0 is kept (compute-only and graphics)" {
	for caps in utility,compute graphics,utility; do
		rm -rf "$B"
		make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'readlink /usr/lib/x86_64-linux-gnu/libGLX_indirect.so.0; for l in /usr/lib/x86_64-linux-gnu/*.so* /usr/lib/i386-linux-gnu/*.so*; do [ -L "$l" ] && [ ! -e "$l" ] && echo "dangling $l"; done; true'
		mkdir -p "$B/rootfs/usr/lib/x86_64-linux-gnu"
		: >"$B/rootfs/usr/lib/x86_64-linux-gnu/libGLX_mesa.so.0"
		ln -s libGLX_mesa.so.0 "$B/rootfs/usr/lib/x86_64-linux-gnu/libGLX_indirect.so.0"
		bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0 NVIDIA_DRIVER_CAPABILITIES=$caps
		run_bundle debian-4gpu
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = libGLX_mesa.so.0 ]
		[[ "$output" != *dangling* ]]
	done
}

# The wrapper does the container-root work itself: config.json keeps no nvbind hook, and the
# driver's libraries are in the container's loader cache.
@test "no hook process on the wrapper path; the loader cache lists the driver" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'true'
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=all
	# the created container keeps runc's stdio: give it files, not bats' pipe
	"$WITH_SPECS" "$BATS_FILE_TMPDIR/h100-host.json" -- "$RUNTIME" --root "$STATE" create -b "$B" \
		"c$BATS_TEST_NUMBER" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1
	"$RUNTIME" --root "$STATE" delete -f "c$BATS_TEST_NUMBER"
	[ "$(jq '[.hooks // {} | .[] | .[] | select(.path | test("nvbind"))] | length' "$B/config.json")" = 0 ]
	ldconfig -p -C "$B/rootfs/etc/ld.so.cache" | grep -q 'libcuda.so.1 (libc6,x86-64) => /usr/lib/nvbind/lib/libcuda.so.1'
	# the SONAME link is the driver folder's, made once on the host
	[ ! -e "$B/rootfs/usr/local/nvidia/lib64/libcuda.so.1" ]
	[ "$(jq '[.mounts[] | select(.destination == "/usr/lib/nvbind")] | length' "$B/config.json")" = 1 ]
}

# runtime.md promises MIG UUID requests without an installed spec: the spec generated in
# memory then asks NVML (only then) for the MIG devices' UUIDs.
@test "MIG-<uuid> without an installed spec gets that MIG device's nodes" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$NODES; ls /dev/nvidia-caps"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=MIG-2a4c6e80-1b3d-5f7a-9c0e-2d4f6a8c0e12
	run_bundle - NVBIND_ROOT="$ROOTS/debian-4gpu"
	[ "$status" -eq 0 ]
	[ "$(grep '^node ' <<<"$output" | xargs)" = "node /dev/nvidia0" ]
	[[ "$output" == *"nvidia-cap"* ]]
}
