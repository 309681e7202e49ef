#!/usr/bin/env bats
# The musl builds of nvbind-runtime and nvbind-hook (docs/runtime.md, "Static builds"): what
# an install puts on every container's start path. tests/run.sh runs the suites that start
# containers again with them; this file checks what is theirs alone: they are static musl
# programs, a spec written by the nvbind beside them names the musl hook, and what needs NVML
# or libcuda is handed, unchanged, to the glibc wrapper, or refused with the reason when that
# is missing.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle

MUSL="$NVB_BUILD_ROOT/src/musl"

setup_file() {
	if [ ! -x "$MUSL/nvbind-runtime" ] || [ ! -x "$MUSL/nvbind-hook" ]; then
		if [ "${CI:-}" = true ]; then
			echo "the musl programs were not built and CI=true (install musl-tools)" >&2
			exit 1
		fi
		export NVB_MUSL_MISSING="the musl programs were not built (install musl-tools)"
		return 0
	fi
	need_engine runc || return 0
	ensure_roots
	export ROOTS
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
}

setup() {
	[ -z "${NVB_MUSL_MISSING:-}" ] || skip "$NVB_MUSL_MISSING"
	engine_skip
	STATE="$BATS_TEST_TMPDIR/runc-state"
	B="$BATS_TEST_TMPDIR/bundle"
	export NVBIND_STATE_DIR="$BATS_TEST_TMPDIR/state"
	LOG="$BATS_TEST_TMPDIR/runtime.log"
	printf '[host]\nroot = "%s"\n[runtime]\nlog_file = "%s"\nlog_level = "debug"\n' \
		"$ROOTS/debian-4gpu" "$LOG" >"$BATS_TEST_TMPDIR/config.toml"
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/config.toml"
}

teardown() {
	local c
	for c in $(runc --root "$STATE" list -q 2>/dev/null); do
		runc --root "$STATE" delete --force "$c" >/dev/null 2>&1 || true
	done
}

@test "nvbind-runtime and nvbind-hook are static musl programs" {
	for p in nvbind-runtime nvbind-hook; do
		# no program interpreter, no shared library: nothing for LD_PRELOAD to act on
		run readelf -lW "$MUSL/$p"
		[ "$status" -eq 0 ]
		[[ "$output" != *INTERP* ]]
		run readelf -dW "$MUSL/$p"
		[[ "$output" != *NEEDED* ]]
		# musl's start-up, not glibc's
		nm "$MUSL/$p" | grep -w __init_libc
		! nm "$MUSL/$p" | grep -w _dl_relocate_static_pie
	done
	run "$MUSL/nvbind-hook" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "nvbind-hook "* ]]
	# the glibc build for comparison: the check above tells them apart
	nm "$NVB_BUILD_ROOT/src/nvbind-runtime" | grep -w _dl_relocate_static_pie ||
		readelf -dW "$NVB_BUILD_ROOT/src/nvbind-runtime" | grep NEEDED
}

@test "a spec written by the nvbind beside them names the musl nvbind-hook, which does its work" {
	ln -f "$NVB_BUILD_ROOT/src/nvbind" "$MUSL/nvbind"
	"$MUSL/nvbind" --root "$ROOTS/h100-host" cdi generate --output "$BATS_TEST_TMPDIR/spec.json" 2>/dev/null
	run jq -r '.containerEdits.hooks[] | select(.hookName == "createRuntime") | .path' "$BATS_TEST_TMPDIR/spec.json"
	[ "$output" = "$MUSL/nvbind-hook" ]
	# the spec's hook, as runc runs it (at createRuntime: this shell's namespaces are the
	# container's), on a copy of the image
	root="$BATS_TEST_TMPDIR/image"
	cp -a "$BATS_FILE_TMPDIR/rootfs" "$root"
	mkdir -p "$B"
	jq -n --arg r "$root" '{ociVersion: "1.0.2", root: {path: $r}}' >"$B/config.json"
	args=$(jq -c '[.containerEdits.hooks[] | select(.hookName == "createRuntime") | .args[1:][]]' "$BATS_TEST_TMPDIR/spec.json")
	mapfile -t argv < <(jq -r '.[]' <<<"$args")
	run "$MUSL/nvbind-hook" "${argv[@]}" <<<"{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":$$,\"bundle\":\"$B\"}"
	echo "$output"
	[ "$status" -eq 0 ]
	ldconfig -p -C "$root/etc/ld.so.cache" | grep -F 'libcuda.so.1 (libc6,x86-64) => /usr/lib/nvbind/lib/libcuda.so.'
	[ "$(readlink "$root/usr/bin/nvidia-smi")" = /usr/lib/nvbind/bin/nvidia-smi ]
	grep -x /usr/lib/nvbind/lib "$root/etc/ld.so.conf.d/00-nvbind.conf"
}

@test "nvbind-runtime (musl) gives a runc container the GPU, libcuda by name and nvidia-smi" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'for n in /dev/nvidia[0-9]*; do echo "node $n"; done; probe-cuda; nvidia-smi -L'
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=1
	run "$MUSL/nvbind-runtime" --root "$STATE" run -b "$B" c1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^node ' <<<"$output")" -eq 1 ]
	[[ "$output" == *"nvbind-standin libcuda 550.54.14"* ]]
	[ "$(grep -c '^GPU ' <<<"$output")" -eq 1 ]
	! grep 'handing over' "$LOG"
}

@test "isolation.compute_mode: the musl wrapper hands the command, unchanged, to its glibc build" {
	printf '[isolation]\ncompute_mode = true\n' >>"$NVBIND_CONFIG"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'true'
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0
	cp "$B/config.json" "$BATS_TEST_TMPDIR/before.json"
	# the glibc build does the create (a shared GPU: no NVML call is made); files, not a pipe,
	# for the created container's stdio: its init keeps them open
	status=0
	"$MUSL/nvbind-runtime" --root "$STATE" create -b "$B" c2 </dev/null \
		>"$BATS_TEST_TMPDIR/out" 2>&1 || status=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	grep -F "create: isolation.compute_mode needs NVML; handing over to $NVB_BUILD_ROOT/src/musl/../nvbind-runtime" "$LOG"
	# one edit of config.json, by the glibc build: the device is there
	jq -e '[.linux.devices[].path] | index("/dev/nvidia2") != null' "$B/config.json"
	[ "$(grep -c 'done before the low-level runtime' "$LOG")" -eq 1 ]
}

@test "without its glibc build, a command that needs it fails with the reason and changes nothing" {
	# the musl wrapper alone in a folder (no ../nvbind-runtime), and no installed glibc build
	mkdir -p "$BATS_TEST_TMPDIR/bin/alone"
	cp "$MUSL/nvbind-runtime" "$MUSL/nvbind-hook" "$BATS_TEST_TMPDIR/bin/alone/"
	printf '[isolation]\ncompute_mode = true\n' >>"$NVBIND_CONFIG"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'true'
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0
	cp "$B/config.json" "$BATS_TEST_TMPDIR/before.json"
	# where the build installs the glibc wrapper (prefix/libexecdir/nvbind)
	libexec=$(jq -r '(.[] | select(.name == "prefix") | .value) as $p |
		(.[] | select(.name == "libexecdir") | .value) as $l |
		(if ($l | startswith("/")) then $l else $p + "/" + $l end) + "/nvbind"' \
		"$NVB_BUILD_ROOT/meson-info/intro-buildoptions.json")
	[[ "$libexec" == /*/nvbind ]]
	run unshare -m sh -c "mkdir -p '$libexec' && mount -t tmpfs none '$libexec' &&
		exec '$BATS_TEST_TMPDIR/bin/alone/nvbind-runtime' --root '$STATE' create -b '$B' c3"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"isolation.compute_mode needs NVML, which this static build cannot load; its glibc build $libexec/nvbind-runtime cannot be executed"* ]]
	[[ "$output" == *"hint: reinstall nvbind"* ]]
	cmp "$B/config.json" "$BATS_TEST_TMPDIR/before.json"
	run runc --root "$STATE" state c3
	[ "$status" -ne 0 ]
	# checkpoint too (libcuda)
	run unshare -m sh -c "mkdir -p '$libexec' && mount -t tmpfs none '$libexec' &&
		exec '$BATS_TEST_TMPDIR/bin/alone/nvbind-runtime' --root '$STATE' checkpoint c3"
	[ "$status" -eq 1 ]
	[[ "$output" == *"GPU snapshots need libcuda, which this static build cannot load"* ]]
}
