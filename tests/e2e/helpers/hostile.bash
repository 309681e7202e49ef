# Hostile images and the host sentinel they aim at (tests/e2e/hostile_images.bats).
# Needs helpers/common, helpers/image, helpers/bundle and helpers/podman loaded, and
# WITH_SPECS, RUNTIME, STATE set by the suite.

# sentinel_make DIR: the host directory a hostile image aims at. What an escaping write would
# touch: a plain file, a loader cache and configuration, a library folder with a real library
# whose SONAME link is missing (what ldconfig would create), a configuration folder. Every
# timestamp is set far in the past, so that any write shows even on a coarse clock.
sentinel_make() {
	local d=$1
	mkdir -p "$d/etc/ld.so.conf.d" "$d/lib" "$d/conf"
	printf 'a host file: no container may change it\n' >"$d/victim"
	printf 'another host file\n' >"$d/victim2"
	cp /etc/ld.so.cache "$d/etc/ld.so.cache"
	cp /etc/ld.so.cache "$d/ld.so.cache"
	echo /opt/host-only/lib >"$d/etc/ld.so.conf.d/host.conf"
	echo "root:x:0:0:host root:/root:/bin/bash" >"$d/etc/passwd"
	echo /opt/host-only/lib >"$d/conf/host.conf"
	cp "$BATS_FILE_TMPDIR/libsentinel.so.1.0" "$d/lib/"
	find "$d" -exec touch -h -d '2001-02-03 04:05:06' {} +
}

# sentinel_listing DIR: everything about DIR that a write could change: per entry its type,
# size, mode, owner, mtime, ctime and link target, then the content hash of every file
sentinel_listing() {
	find "$1" -printf '%P|%y|%s|%m|%U:%G|%T@|%C@|%l\n' | LC_ALL=C sort
	find "$1" -type f -exec sha256sum {} + | LC_ALL=C sort
}

# sentinel_init: $SENT, the sentinel of this test, and its listing before the image runs
sentinel_init() {
	SENT="$BATS_TEST_TMPDIR/host"
	sentinel_make "$SENT"
	SENT_BEFORE=$(sentinel_listing "$SENT")
}

# sentinel_unchanged WHAT: fail, showing the difference, when the sentinel changed
sentinel_unchanged() {
	local now
	now=$(sentinel_listing "$SENT")
	[ "$now" = "$SENT_BEFORE" ] && return 0
	echo "ESCAPE ($1): the host sentinel $SENT changed:"
	diff <(echo "$SENT_BEFORE") <(echo "$now") || true
	return 1
}

# hostile_rootfs NAME SETUP: a copy of the suite's plain rootfs, altered by the shell SETUP run
# inside it ($SENT is set there); its path in $IMG
hostile_rootfs() {
	IMG="$BATS_TEST_TMPDIR/img-$1"
	cp -a "$BATS_FILE_TMPDIR/rootfs" "$IMG"
	(cd "$IMG" && eval "$2")
}

# build_marker KIND OUT MARKER...: the payload of helpers/hostile-marker.c, KIND "library"
# (constructor) or "program" (static executable), writing each MARKER when it runs
build_marker() {
	local kind=$1 out=$2 list="" m
	shift 2
	for m in "$@"; do list+="${list:+,}\"$m\""; done
	if [ "$kind" = library ]; then
		cc -O2 -Wall -Werror -shared -fPIC -DAS_LIBRARY "-DMARKERS=$list" -o "$out" "$E2E_DIR/helpers/hostile-marker.c"
	else
		cc -O2 -Wall -Werror -static "-DMARKERS=$list" -o "$out" "$E2E_DIR/helpers/hostile-marker.c"
	fi
}

# expect_started_or_named FILE...: the last run started the container, or failed with an error
# that names one of the files (never a silent failure, never a hang)
expect_started_or_named() {
	[ "$status" -ne 124 ] || { echo "timed out"; return 1; }
	if [ "$status" -eq 0 ]; then
		[[ "$output" == *started* ]]
		return
	fi
	local f
	for f in "$@"; do
		[[ "$output" == *"$f"* ]] && return 0
	done
	echo "failed without naming any of: $*"
	return 1
}

# via_runtime ROOT SCRIPT [ENV...]: the image $IMG as an OCI bundle through nvbind-runtime and
# runc, ROOT's spec installed, NVIDIA_VISIBLE_DEVICES=all; $status and $output of the run
via_runtime() {
	local root=$1 script=$2
	shift 2
	BUNDLE="$BATS_TEST_TMPDIR/bundle-$root-${IMG##*/img-}"
	rm -rf "$BUNDLE"
	make_bundle "$BUNDLE" "$IMG" "$script"
	bundle_env "$BUNDLE" NVIDIA_VISIBLE_DEVICES=all "$@"
	run timeout 60 "$WITH_SPECS" "$BATS_FILE_TMPDIR/$root.json" -- \
		"$RUNTIME" --root "$STATE" run -b "$BUNDLE" "h$BATS_TEST_NUMBER-$root-${IMG##*/img-}"
	echo "== nvbind-runtime, $root, ${IMG##*/}: status $status"
	echo "$output"
}

# have_podman: true when podman is here; without it the podman part of a test is left out
# (reported), and with CI=true that fails the test like need_engine does
have_podman() {
	command -v podman >/dev/null && return 0
	[ "${CI:-}" != true ] || { echo "podman is not installed and CI=true" >&2; return 1; }
	echo "podman is not installed: the CDI-path part of this test was left out"
	return 1
}

# via_podman SPEC-FILE SCRIPT [IMPORT-OPTION...]: the image $IMG imported into the suite's
# podman and run with --device nvidia.com/gpu=all, SPEC-FILE installed: podman applies the spec
# itself, so its createContainer hook runs with the container's mounts (its /proc) in place
via_podman() {
	local spec=$1 script=$2 name
	shift 2
	name="localhost/nvbind-hostile:${IMG##*/img-}-$BATS_TEST_NUMBER"
	rootfs_tar "$IMG" "$IMG.tar"
	pm import "$@" "$IMG.tar" "$name" >/dev/null 2>"$IMG.import.log" || { cat "$IMG.import.log"; return 1; }
	run timeout 90 "$WITH_SPECS" "$spec" -- podman --root "$PODMAN_DIR/storage" \
		--runroot "$PODMAN_DIR/run" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file run --rm --network none --device nvidia.com/gpu=all "$name" \
		/bin/sh -c "$script"
	echo "== podman, ${spec##*/}, ${IMG##*/}: status $status"
	echo "$output"
	pm rmi -f "$name" >/dev/null 2>&1 || true
}

# hook_state ROOTFS: a bundle whose config.json names ROOTFS, and the container state a runtime
# gives a hook on stdin, in $HOOK_STATE; its pid is this shell's (a createRuntime hook joins the
# namespaces of the pid: here the test's own)
hook_state() {
	local b="$BATS_TEST_TMPDIR/hook-bundle"
	mkdir -p "$b"
	jq -n --arg r "$1" '{ociVersion: "1.0.2", root: {path: $r}, process: {args: ["/bin/sh"], cwd: "/"}}' \
		>"$b/config.json"
	HOOK_STATE="$BATS_TEST_TMPDIR/hook-state.json"
	jq -n --arg b "$b" --argjson pid "$BASHPID" '{ociVersion: "1.0.2", id: "hostile", status: "creating", pid: $pid, bundle: $b}' \
		>"$HOOK_STATE"
}

# via_spec_hooks SPEC-FILE: every createRuntime and createContainer hook of the spec, in that
# order, run as runc runs it (its path, args and env only, the state on stdin) on $HOOKED, a
# fresh copy of $IMG (the image stays as it was for the next run); $status (the first
# failure) and $output
via_spec_hooks() {
	local spec=$1 n i path env=() args=() st=0 out=""
	HOOKED="$IMG.hooked"
	rm -rf "$HOOKED"
	cp -a "$IMG" "$HOOKED"
	hook_state "$HOOKED"
	local pick='[.containerEdits.hooks[]? | select(.hookName == "createRuntime")] + [.containerEdits.hooks[]? | select(.hookName == "createContainer")]'
	n=$(jq "$pick | length" "$spec")
	for ((i = 0; i < n; i++)); do
		local h="($pick)[$i]"
		path=$(jq -r "$h.path" "$spec")
		mapfile -t args < <(jq -r "$h.args[1:][]" "$spec")
		mapfile -t env < <(jq -r "$h.env[]?" "$spec")
		run timeout 30 env -i "${env[@]}" "$path" "${args[@]}" <"$HOOK_STATE"
		out+="$output"$'\n'
		[ "$st" -ne 0 ] || st=$status
	done
	status=$st output=$out
	echo "== ${spec##*/} hooks run directly on ${IMG##*/}: status $status"
	echo "$output"
}
