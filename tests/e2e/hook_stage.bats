#!/usr/bin/env bats
# The stage of the spec's hook (docs/cdi.md, "The hook"): generated specs run nvbind-hook at
# createRuntime, from the runtime's own process and namespaces, and the hook joins the
# container's user and mount namespaces through the state's pid before it opens the root. What a
# real runtime does differently from a hook run by hand, put into tests: the container's own
# mounts (a volume at /etc/ld.so.conf.d) exist only in its mount namespace; a user-namespaced
# container's files belong to its root; specs of earlier versions (createContainer, no --stage)
# still work; and crun, the other runtime engines use, runs the hook at the same point as runc.
# The spec's edits are applied to a runc bundle here as an engine applies them (cdi_edits).

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle

setup_file() {
	need_engine runc || return 0
	ensure_roots
	export ROOTS
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	"$NVBIND" --root "$ROOTS/h100-host" cdi generate --no-driver-folder \
		--output "$BATS_FILE_TMPDIR/spec.json" 2>/dev/null
	# a spec of an earlier version: the same hook at createContainer, without --stage
	jq '.containerEdits.hooks |= map(.hookName = "createContainer" |
		.args |= (. as $a | [range(length) | select($a[.] != "--stage" and
			(. == 0 or $a[. - 1] != "--stage")) | $a[.]]))' \
		"$BATS_FILE_TMPDIR/spec.json" >"$BATS_FILE_TMPDIR/spec-cc.json"
}

setup() {
	engine_skip
	STATE="$BATS_TEST_TMPDIR/state"
	B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
	[ -z "${USERNS_DIR:-}" ] || rm -rf "$USERNS_DIR"
	local c rt
	for rt in runc crun; do
		command -v $rt >/dev/null || continue
		for c in $($rt --root "$STATE-$rt" list -q 2>/dev/null); do
			$rt --root "$STATE-$rt" delete --force "$c" >/dev/null 2>&1 || true
		done
	done
}

# cdi_edits DIR SPEC: the spec's edits for nvidia.com/gpu=all applied to DIR/config.json as an
# engine applies them: its mounts and hooks (by hookName) and env. Device nodes are left out:
# the fixture's are not real devices, and the hook's stage is what is tested here.
cdi_edits() {
	bundle_edit "$1" '[$spec[0].containerEdits, ($spec[0].devices[] | select(.name == "all") |
		.containerEdits)] as $e |
		.mounts += [$e[] | .mounts[]? | {destination: .containerPath, source: .hostPath,
			type: (.type // "bind"), options: (.options // ["rbind"])}] |
		.hooks = reduce ($e[] | .hooks[]?) as $h (.hooks // {};
			.[$h.hookName] += [$h | {path, args, env} | with_entries(select(.value != null))]) |
		.process.env += [$e[] | .env[]?]' --slurpfile spec "$2"
}

# run_in RUNTIME ID: `RUNTIME run` of the bundle. crun 1.8 refuses a hybrid cgroup layout (a
# cgroup2 mount with controllers beside the v1 ones, as on this kind of VM): there it runs in
# a private mount namespace without that mount, and says so.
run_in() {
	local rt=$1 id=$2
	if [ "$rt" = crun ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
		echo "crun: hybrid cgroups here, run without /sys/fs/cgroup/unified"
		run timeout 60 unshare -m --propagation private sh -c \
			'umount /sys/fs/cgroup/unified && exec "$@"' _ crun --root "$STATE-crun" run -b "$B" "$id"
	else
		run timeout 60 "$rt" --root "$STATE-$rt" run -b "$B" "$id"
	fi
	echo "$rt: status $status"
	echo "$output"
}

runtimes() {
	echo runc
	if command -v crun >/dev/null; then
		echo crun
	elif [ "${CI:-}" = true ]; then
		echo "crun is not installed and CI=true (tools/install-deps.sh installs it)" >&2
		echo missing-crun
	fi
}

@test "the generated spec's one hook is nvbind-hook at createRuntime, told so by --stage" {
	run jq -r '[.containerEdits.hooks[] | .hookName] | join(",")' "$BATS_FILE_TMPDIR/spec.json"
	[ "$output" = createRuntime ]
	run jq -r '.containerEdits.hooks[0].args[0:4] | join(" ")' "$BATS_FILE_TMPDIR/spec.json"
	[ "$output" = "nvbind-hook libraries --stage createRuntime" ]
	# no timeout: runc reads an explicit 0 as "already too late"
	[ "$(jq '.containerEdits.hooks[0] | has("timeout")' "$BATS_FILE_TMPDIR/spec.json")" = false ]
}

@test "runc and crun: libcuda by name, its link, and a volume at /etc/ld.so.conf.d gets the loader file, not the image beneath it" {
	# The volume is a mount of the container's own: it exists in its mount namespace only. A
	# hook that opened the root in the runtime's namespace would write 00-nvbind.conf beneath
	# it, into the image, where the container never sees it.
	local rt
	for rt in $(runtimes); do
		[ "$rt" != missing-crun ] || return 1
		rm -rf "$B"
		make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" \
			'probe-cuda; readlink /usr/local/nvidia/lib64/libcuda.so; cat /etc/ld.so.conf.d/00-nvbind.conf'
		cdi_edits "$B" "$BATS_FILE_TMPDIR/spec.json"
		bundle_edit "$B" '.mounts += [{destination: "/etc/ld.so.conf.d", type: "tmpfs",
			source: "tmpfs", options: ["nosuid", "nodev", "mode=755"]}]'
		run_in "$rt" "c-$rt"
		[ "$status" -eq 0 ]
		[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
		grep -qx libcuda.so.1 <<<"$output"
		[[ "$output" == *"/usr/local/nvidia/lib64"* ]]
		# the image beneath the volume is untouched (the runtime made the mount point only)
		[ -z "$(ls -A "$B/rootfs/etc/ld.so.conf.d")" ]
		[ -s "$B/rootfs/etc/ld.so.cache" ]
	done
	# the control: the same hook at createRuntime without the join (told --stage
	# createContainer) opens the root in the runtime's namespace and writes beneath the volume
	rm -rf "$B"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'ls /etc/ld.so.conf.d; echo listed'
	cdi_edits "$B" "$BATS_FILE_TMPDIR/spec.json"
	bundle_edit "$B" '.hooks.createRuntime[0].args |= (map(if . == "createRuntime" then "createContainer" else . end)) |
		.mounts += [{destination: "/etc/ld.so.conf.d", type: "tmpfs", source: "tmpfs",
		options: ["nosuid", "nodev", "mode=755"]}]'
	run_in runc c-control
	[ "$status" -eq 0 ]
	[[ "$output" != *00-nvbind.conf* ]]
	[ -f "$B/rootfs/etc/ld.so.conf.d/00-nvbind.conf" ]
}

@test "a spec of an earlier version (the hook at createContainer, no --stage) still gives the GPU libraries" {
	run jq -r '[.containerEdits.hooks[] | .hookName] | join(","), (.containerEdits.hooks[0].args | index("--stage"))' \
		"$BATS_FILE_TMPDIR/spec-cc.json"
	[ "${lines[0]}" = createContainer ] && [ "${lines[1]}" = null ]
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'probe-cuda; cat /etc/ld.so.conf.d/00-nvbind.conf'
	cdi_edits "$B" "$BATS_FILE_TMPDIR/spec-cc.json"
	run_in runc c-cc
	[ "$status" -eq 0 ]
	[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
	[[ "$output" == *"/usr/local/nvidia/lib64"* ]]
}

@test "a user-namespaced container: at either stage the hook's files belong to the container's root" {
	# runc runs a createContainer hook from `runc init`, inside the container's user namespace;
	# at createRuntime the hook joins it (and becomes its root). Either way the cache, the
	# loader file and its folder belong to container uid 0, host uid 100000 here: the
	# container's root can replace them, and nothing is owned by a uid it cannot see.
	local spec
	# runc's userns root (host uid 100000) must reach the bundle: not under bats' private tmp
	B=$(mktemp -d /tmp/nvbind-userns.XXXXXX)
	chmod 755 "$B"
	USERNS_DIR=$B
	for spec in spec spec-cc; do
		rm -rf "$B"
		mkdir -m 755 "$B"
		make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'probe-cuda; stat -c "%u %n" /etc/ld.so.cache /etc/ld.so.conf.d'
		chown -R 100000:100000 "$B/rootfs"
		bundle_edit "$B" '.linux.namespaces += [{type: "user"}] |
			.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] |
			.linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
		cdi_edits "$B" "$BATS_FILE_TMPDIR/$spec.json"
		run_in runc "c-userns-${spec}"
		[ "$status" -eq 0 ]
		[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
		[[ "$output" == *"0 /etc/ld.so.cache"* && "$output" == *"0 /etc/ld.so.conf.d"* ]]
		[ "$(stat -c %u:%g "$B/rootfs/etc/ld.so.cache")" = 100000:100000 ]
		[ "$(stat -c %u:%g "$B/rootfs/etc/ld.so.conf.d/00-nvbind.conf")" = 100000:100000 ]
		[ "$(stat -c %u "$B/rootfs/usr/bin/nvidia-smi")" = 100000 ]
	done
}

@test "hook errors: an unknown --stage, a state without pid at createRuntime, a pid that is gone" {
	local hook root="$BATS_TEST_TMPDIR/root" args
	hook=$(jq -r '.containerEdits.hooks[0].path' "$BATS_FILE_TMPDIR/spec.json")
	mapfile -t args < <(jq -r '.containerEdits.hooks[0].args[1:][]' "$BATS_FILE_TMPDIR/spec.json")
	cp -a "$BATS_FILE_TMPDIR/rootfs" "$root"
	mkdir -p "$B"
	jq -n --arg r "$root" '{ociVersion: "1.0.2", root: {path: $r}}' >"$B/config.json"
	state() { jq -nc --arg b "$B" --argjson pid "$1" '{ociVersion: "1.0.2", id: "c", status: "creating", pid: $pid, bundle: $b}'; }
	# an unknown stage: a usage error (2) naming it, nothing written
	run "$hook" libraries --stage later "${args[@]:3}" <<<"$(state $$)"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --stage 'later'"* ]]
	[[ "$output" == *"createRuntime"* ]]
	# createRuntime without the container's pid: it cannot know the container's namespaces
	run "$hook" "${args[@]}" <<<"$(state 0)"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no pid of the container's process"* ]]
	[[ "$output" == *"--stage createContainer"* ]]
	# a process that is gone: the namespace file it would join is named
	sh -c 'exit 0' &
	local gone=$!
	wait "$gone"
	run "$hook" "${args[@]}" <<<"$(state "$gone")"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"/proc/$gone/ns/"* ]]
	[ ! -e "$root/etc/ld.so.conf.d" ]
	[ "$(stat -c %s "$root/etc/ld.so.cache" 2>/dev/null || echo none)" = "$(stat -c %s "$BATS_FILE_TMPDIR/rootfs/etc/ld.so.cache" 2>/dev/null || echo none)" ]
	# this shell's own pid: its namespaces are the hook's, nothing to join, the work is done
	run "$hook" "${args[@]}" <<<"$(state $$)"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx /usr/local/nvidia/lib64 "$root/etc/ld.so.conf.d/00-nvbind.conf"
}
