#!/usr/bin/env bats
# MIG end to end on the mig-h100 fixture root (an H100 with GPU instances gi1/ci0 and gi2/ci0;
# gi2/ci0's capability node nvidia-cap22 is missing on purpose): what info reports, that a MIG
# device without both of its nodes is never offered, and on a copy where the node exists, the
# spec's MIG devices in podman 4.3.1 and through nvbind-runtime with runc: each container sees
# exactly its GPU's node, its two capability nodes and the control nodes.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle
load helpers/podman

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

# every NVIDIA node a container sees, with major:minor, sorted
NODES='find /dev -maxdepth 2 -name "nvidia*" -type c | while read -r n; do echo "$n $(stat -c "%t:%T" "$n")"; done | sort'

setup_file() {
	ensure_roots
	export ROOTS
	# the copy where the missing node exists (the major of /proc/devices' nvidia-caps)
	HOSTROOT="$BATS_FILE_TMPDIR/host"
	cp -a "$ROOTS/mig-h100" "$HOSTROOT"
	major=$(awk '$2 == "nvidia-caps" {print $1}' "$HOSTROOT/proc/devices")
	mknod -m 444 "$HOSTROOT/dev/nvidia-caps/nvidia-cap22" c "$major" 22
	"$NVBIND" --root "$HOSTROOT" cdi generate --output "$BATS_FILE_TMPDIR/spec.json" 2>/dev/null
	if command -v runc >/dev/null || [ -x /usr/sbin/runc ]; then
		make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	fi
	if command -v podman >/dev/null; then
		podman_setup
		make_rootfs "$BATS_FILE_TMPDIR/prootfs"
		rootfs_tar "$BATS_FILE_TMPDIR/prootfs" "$BATS_FILE_TMPDIR/image.tar"
		pm import "$BATS_FILE_TMPDIR/image.tar" localhost/nvbind-e2e:plain >/dev/null
	fi
}

teardown_file() {
	podman_teardown
}

@test "mig-h100: info lists the complete MIG device, leaves out gi2/ci0 and says why" {
	info_json mig-h100 --no-nvml
	[ "$status" -eq 0 ]
	[ "$(jqo '.gpus[0].mig_mode')" = enabled ]
	[ "$(jqo '[.gpus[0].mig_devices[] | .cdi_name] | join(" ")')" = "nvidia.com/gpu=0:0" ]
	[ "$(jqo '[.gpus[0].mig_devices[0] | .gi, .ci] | join("/")')" = 1/0 ]
	[ "$(jqo '[.gpus[0].mig_devices[0].device_nodes[] | "\(.path)=\(.major):\(.minor)"] | join(" ")')" = \
		"/dev/nvidia-caps/nvidia-cap12=509:12 /dev/nvidia-caps/nvidia-cap13=509:13" ]
	[[ "$(jqo '.problems[] | select(.code == "device-node-missing") | .message')" == *nvidia-cap22* ]]
	[[ "$(jqo '.problems[] | select(.code == "mig-device-incomplete") | .message')" == *"gi2/ci0"* ]]
	# and no spec offers it
	run -0 "$NVBIND" --root "$ROOTS/mig-h100" cdi generate --output "$BATS_TEST_TMPDIR/s.json"
	run -0 jq -r '[.devices[].name | select(test(":"))] | join(" ")' "$BATS_TEST_TMPDIR/s.json"
	[ "$output" = 0:0 ]
}

@test "mig-h100 with the node: the spec names both MIG devices by index and MIG UUID, each with its two cap nodes" {
	S="$BATS_FILE_TMPDIR/spec.json"
	run -0 "$NVBIND" cdi validate "$S"
	run -0 jq -r '[.devices[].name] | join(" ")' "$S"
	[[ "$output" == *"0:0"*"0:1"* ]]
	[ "$(jq -r '[.devices[].name | select(startswith("MIG-"))] | length' "$S")" = 2 ]
	run -0 jq -r '.devices[] | select(.name == "0:1") | [.containerEdits.deviceNodes[].path] | join(" ")' "$S"
	[ "$output" = "/dev/nvidia0 /dev/nvidia-caps/nvidia-cap21 /dev/nvidia-caps/nvidia-cap22" ]
	# the MIG UUID device of gi2/ci0 has the same nodes
	mig=$(jq -r '[.devices[] | select(.name | startswith("MIG-"))][1].name' "$S")
	run -0 jq -r --arg m "$mig" '.devices[] | select(.name == $m) | [.containerEdits.deviceNodes[].path] | join(" ")' "$S"
	[ "$output" = "/dev/nvidia0 /dev/nvidia-caps/nvidia-cap21 /dev/nvidia-caps/nvidia-cap22" ]
	# the management caps (config, monitor) are no container's
	run -0 jq -r '[.. | objects | select(has("path")) | .path | select(test("nvidia-cap[12]$"))] | length' "$S"
	[ "$output" = 0 ]
}

@test "podman: nvidia.com/gpu=0:1 sees nvidia0, cap21, cap22 and the control nodes, nothing else" {
	need_engine podman
	run "$WITH_SPECS" "$BATS_FILE_TMPDIR/spec.json" -- podman --root "$PODMAN_DIR/storage" \
		--runroot "$PODMAN_DIR/run" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file run --rm --network none --device nvidia.com/gpu=0:1 \
		localhost/nvbind-e2e:plain /bin/sh -c "$NODES"
	echo "$output"
	[ "$status" -eq 0 ]
	# 509 = 0x1fd (nvidia-caps), 510 = 0x1fe (nvidia-uvm), 195 = 0xc3
	[ "$(awk '{print $1}' <<<"$output" | xargs)" = \
		"/dev/nvidia-caps/nvidia-cap21 /dev/nvidia-caps/nvidia-cap22 /dev/nvidia-uvm /dev/nvidia-uvm-tools /dev/nvidia0 /dev/nvidiactl" ]
	[[ "$output" == *"/dev/nvidia-caps/nvidia-cap22 1fd:16"* ]]
}

# wrapper ENV...: a runc bundle listing its NVIDIA nodes, through nvbind-runtime, spec installed
wrapper() {
	need_engine runc
	local B="$BATS_TEST_TMPDIR/bundle"
	rm -rf "$B"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$NODES"
	bundle_env "$B" "$@"
	run env NVBIND_ROOT="$BATS_FILE_TMPDIR/host" "$WITH_SPECS" "$BATS_FILE_TMPDIR/spec.json" -- \
		"$RUNTIME" --root "$BATS_TEST_TMPDIR/state" run -b "$B" "mig$BATS_TEST_NUMBER"
	echo "$output"
}

@test "nvbind-runtime: NVIDIA_VISIBLE_DEVICES=0:0 and the MIG UUID of gi2/ci0 give exactly their nodes" {
	wrapper NVIDIA_VISIBLE_DEVICES=0:0
	[ "$status" -eq 0 ]
	[ "$(awk '{print $1}' <<<"$output" | xargs)" = \
		"/dev/nvidia-caps/nvidia-cap12 /dev/nvidia-caps/nvidia-cap13 /dev/nvidia-uvm /dev/nvidia-uvm-tools /dev/nvidia0 /dev/nvidiactl" ]
	mig=$(jq -r '[.devices[] | select(.name | startswith("MIG-"))][1].name' "$BATS_FILE_TMPDIR/spec.json")
	wrapper "NVIDIA_VISIBLE_DEVICES=$mig"
	[ "$status" -eq 0 ]
	[ "$(awk '{print $1}' <<<"$output" | xargs)" = \
		"/dev/nvidia-caps/nvidia-cap21 /dev/nvidia-caps/nvidia-cap22 /dev/nvidia-uvm /dev/nvidia-uvm-tools /dev/nvidia0 /dev/nvidiactl" ]
}

@test "nvbind-runtime: a MIG index that does not exist fails naming it" {
	wrapper NVIDIA_VISIBLE_DEVICES=0:5
	[ "$status" -ne 0 ]
	[[ "$output" == *"0:5"* ]]
}
