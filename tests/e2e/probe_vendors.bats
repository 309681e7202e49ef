#!/usr/bin/env bats
# The probe's MIG capability nodes on the mig-h100 fixture root (gi2/ci0's node nvidia-cap22 is
# missing there by design): reported with the command that creates it, or created by nvbind
# itself when it may (NVBIND_CREATE_DEVICE_NODES=1 stands in for "host root / and root").
# The inventory of the other vendors' roots is checked through the C API by test_amd,
# test_intel and test_wsl, and through info --json by vendors.bats.

bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
	ensure_roots
	export ROOTS
}

setup() {
	# a private copy: creating the node must not change the shared root
	ROOT="$BATS_TEST_TMPDIR/mig-h100"
	cp -a "$ROOTS/mig-h100" "$ROOT"
}

mig_info() {
	run "$NVBIND" --root "$ROOT" info --json
	[ "$status" -eq 0 ]
}

@test "mig-h100: the missing cap node is a problem naming it and the nvidia-modprobe command" {
	mig_info
	# gi2/ci0 lacks a node: left out (a container could not use it), gi1/ci0 is complete
	[ "$(jqo '[.gpus[0].mig_devices[] | "\(.gi)/\(.ci)"] | join(" ")')" = 1/0 ]
	[ "$(jqo '.gpus[0].mig_devices[0].device_nodes | length')" = 2 ]
	[ "$(jqo '[.problems[] | select(.code=="mig-device-incomplete")] | length')" = 1 ]
	[ "$(jqo '[.problems[] | select(.code=="device-node-missing")] | length')" = 1 ]
	[[ "$(jqo '.problems[] | select(.code=="device-node-missing") | .message')" == *"/dev/nvidia-caps/nvidia-cap22"* ]]
	[ "$(jqo '.problems[] | select(.code=="device-node-missing") | .hint')" = \
		"run 'nvidia-modprobe -f /proc/driver/nvidia/capabilities/gpu0/mig/gi2/ci0/access' (as root)" ]
	# a root other than / is never written to unless asked
	[ ! -e "$ROOT/dev/nvidia-caps/nvidia-cap22" ]
}

@test "mig-h100: NVBIND_CREATE_DEVICE_NODES=1 creates it with the nvidia-caps major and DeviceFileMode" {
	major=$(awk '$2 == "nvidia-caps" { print $1 }' "$ROOT/proc/devices")
	[ -n "$major" ]
	NVBIND_CREATE_DEVICE_NODES=1 mig_info
	[ -c "$ROOT/dev/nvidia-caps/nvidia-cap22" ]
	[ "$(stat -c '%a %u' "$ROOT/dev/nvidia-caps/nvidia-cap22")" = "444 0" ]
	[ "$(( 0x$(stat -c '%t' "$ROOT/dev/nvidia-caps/nvidia-cap22") ))" = "$major" ]
	[ "$(( 0x$(stat -c '%T' "$ROOT/dev/nvidia-caps/nvidia-cap22") ))" = 22 ]
	[ "$(jqo '[.gpus[0].mig_devices[1].device_nodes[] | "\(.path)=\(.major):\(.minor)"] | join(" ")')" = \
		"/dev/nvidia-caps/nvidia-cap21=$major:21 /dev/nvidia-caps/nvidia-cap22=$major:22" ]
	[ "$(jqo '[.problems[] | select(.code=="device-node-missing")] | length')" = 0 ]
	# the next probe finds it and creates nothing
	mig_info
	[ "$(jqo '.gpus[0].mig_devices[1].device_nodes | length')" = 2 ]
}

@test "mig-h100: no nvidia-caps major in /proc/devices: not created, the problem says why" {
	sed -i '/nvidia-caps$/d' "$ROOT/proc/devices"
	NVBIND_CREATE_DEVICE_NODES=1 mig_info
	[ ! -e "$ROOT/dev/nvidia-caps/nvidia-cap22" ]
	[[ "$(jqo '.problems[] | select(.code=="device-node-missing") | .message')" == *"creating it failed: no nvidia-caps major in /proc/devices"* ]]
}
