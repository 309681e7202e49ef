#!/usr/bin/env bats
# GPUs of other vendors than NVIDIA, end to end on the fixture roots: info --json field by
# field, the AMD and Intel CDI specs (validated by nvbind, accepted by the real podman 4.3.1,
# containers that see exactly their nodes), AMD_VISIBLE_DEVICES through nvbind-runtime with
# runc, and --vendor selection.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle
load helpers/podman

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

setup_file() {
	ensure_roots
	export ROOTS
	local spec
	for spec in amd-host:amd no-gpu:intel intel-host:intel wsl2-host:nvidia; do
		"$NVBIND" --root "$ROOTS/${spec%%:*}" cdi generate --vendor "${spec##*:}" \
			--output "$BATS_FILE_TMPDIR/${spec%%:*}.json" 2>/dev/null
	done
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

# ------------------------------------------------------------------------ info

@test "amd-host: info --json lists every AMD GPU and partition with its vendor facts" {
	info_json amd-host
	[ "$status" -eq 0 ]
	# the NVIDIA driver fields stay (no NVIDIA GPU here), the AMD driver is in drivers
	[ "$(jqo .driver.version)" = null ]
	[ "$(jqo '[.drivers[].vendor] | join(",")')" = nvidia,amd ]
	[ "$(jqo '.drivers[1] | [.kernel_module, .version, .cdi_kind, .gpu_count] | join(" ")')" = "amdgpu 6.7.0 amd.com/gpu 10" ]
	[ "$(jqo '.gpus | length')" = 10 ] # amdgpu_xcp_7 has no KFD node: dropped
	[ "$(jqo '[.gpus[].vendor] | unique | join(",")')" = amd ]
	[ "$(jqo '[.gpus[].index] | join(",")')" = 0,1,2,3,4,5,6,7,8,9 ]
	# MI210 0000:03:00.0 is card1/renderD128 (the BMC's ast has card0)
	[ "$(jqo '.gpus[0] | [.cdi_name, .cdi_id, .arch, .pci_bus_id] | join(" ")')" = "amd.com/gpu=0 0x25bc3339d0ea0007 gfx90a 0000:03:00.0" ]
	[ "$(jqo '[.gpus[0].device_nodes[].path] | join(" ")')" = "/dev/dri/card1 /dev/dri/renderD128 /dev/kfd" ]
	[ "$(jqo '.gpus[0] | has("partition")')" = false ]
	# the MI300X in CPX mode: 8 partitions, each its own render node; KFD's unique id is the
	# GPU's, shared, so it names none of them (no cdi_id: requested by index only)
	[ "$(jqo '[.gpus[2:][] | .partition] | join(",")')" = 0,1,2,3,4,5,6,7 ]
	[ "$(jqo '[.gpus[2:][] | has("cdi_id")] | unique | join(",")')" = false ]
	[ "$(jqo '[.gpus[2:][] | .compute_partition + "/" + .memory_partition + "/" + .arch] | unique | join(",")')" = CPX/NPS1/gfx942 ]
	[ "$(jqo '[.gpus[9].device_nodes[].path] | join(" ")')" = "/dev/dri/card10 /dev/dri/renderD137 /dev/kfd" ]
	[ "$(jqo '.gpus[9].device_nodes[2] | [.major, .minor] | join(":")')" = 235:0 ] # kfd: dynamic major
}

@test "amd-host: info text groups by vendor; info --gpus --format=json is Bolt's list" {
	run "$NVBIND" --root "$ROOTS/amd-host" info
	[ "$status" -eq 0 ]
	[[ "$output" == *"== NVIDIA =="*"== AMD =="* ]]
	[[ "$output" == *"Driver:       AMD 6.7.0 (amdgpu kernel module)"* ]]
	[[ "$output" == *"CDI name:    amd.com/gpu=9"* ]]
	[[ "$output" == *"Partition:   7 (compute CPX, memory NPS1)"* ]]
	run -0 "$NVBIND" --root "$ROOTS/amd-host" info --gpus --format=json
	[ "$(jqo 'length')" = 10 ]
	[ "$(jqo '.[0] | keys | join(",")')" = compute_capability,driver_version,id,index,memory_mb,name,uuid,vendor ]
	[ "$(jqo '.[0] | [.id, .vendor, .name, .driver_version] | join("|")')" = "amd.com/gpu=0|amd|AMD Instinct MI210|6.7.0" ]
	# what nvbind does not know is null, never invented
	[ "$(jqo '[.[] | .compute_capability, .uuid] | unique | join(",")')" = "" ]
	[ "$(jqo '.[0].compute_capability')" = null ]
	run -2 "$NVBIND" --root "$ROOTS/amd-host" info --gpus
	[[ "$output" == *"--format=json"* ]]
	run -2 "$NVBIND" --root "$ROOTS/amd-host" info --gpus --format=yaml
	[[ "$output" == *"'yaml'"* ]]
}

@test "NVIDIA hosts: info --gpus --format=json has NVIDIA's facts and the CDI name as id" {
	run -0 "$NVBIND" --root "$ROOTS/debian-4gpu" info --gpus --format=json
	[ "$(jqo 'length')" = 4 ]
	[ "$(jqo '.[0] | [.id, .vendor, .memory_mb, .compute_capability, .driver_version] | join(" ")')" = "nvidia.com/gpu=0 nvidia 81920 8.0 550.54.14" ]
	[[ "$(jqo '.[0].uuid')" == GPU-* ]]
	info_json debian-4gpu
	[ "$(jqo '[.drivers[].vendor] | join(",")')" = nvidia ]
	[ "$(jqo '[.gpus[].vendor] | unique | join(",")')" = nvidia ]
	[ "$(jqo '.gpus[0] | has("cdi_id")')" = false ]
}

@test "no-gpu root: the Intel iGPU is listed with its PCI id name and by-path nodes" {
	info_json no-gpu
	[ "$status" -eq 0 ]
	[ "$(jqo '.gpus[0] | [.vendor, .index, .cdi_name, .cdi_id, .pci_bus_id] | join(" ")')" = "intel 0 intel.com/gpu=0 0000-00-02-0-0x4680 0000:00:02.0" ]
	[ "$(jqo '[.gpus[0].device_nodes[].path] | join(" ")')" = "/dev/dri/card0 /dev/dri/renderD128 /dev/dri/by-path/pci-0000:00:02.0-card /dev/dri/by-path/pci-0000:00:02.0-render" ]
	[ "$(jqo '.drivers[1].vendor')" = intel ]
}

@test "intel-host: i915 and xe GPUs with MEI nodes; the vfio-pci one listed without nodes" {
	info_json intel-host
	[ "$status" -eq 0 ]
	[ "$(jqo '[.gpus[] | .vendor + ":" + (.index | tostring) + ":" + .pci.driver] | join(",")')" = intel:0:i915,intel:1:i915,intel:2:xe,intel:3:vfio-pci ]
	[ "$(jqo '[.gpus[] | .cdi_id // "-"] | join(",")')" = 0000-00-02-0-0xa780,0000-03-00-0-0x56a0,0000-06-00-0-0xe20b,- ]
	[ "$(jqo '[.gpus[2].device_nodes[].path] | join(" ")')" = "/dev/dri/card2 /dev/dri/renderD130 /dev/dri/by-path/pci-0000:06:00.0-card /dev/dri/by-path/pci-0000:06:00.0-render /dev/mei2" ]
	[ "$(jqo '.gpus[3] | [.cdi_name, (.device_nodes | length)] | map(tostring) | join(" ")')" = "null 0" ]
	[ "$(jqo '.problems[] | select(.vendor == "intel") | .code')" = vfio-bound ]
	run -0 "$NVBIND" --root "$ROOTS/intel-host" info
	[[ "$output" == *"(none: bound to vfio-pci for passthrough, not injected into containers)"* ]]
	run -0 "$NVBIND" --root "$ROOTS/intel-host" info --gpus --format=json
	[ "$(jqo '[.[].id] | map(. // "null") | join(",")')" = intel.com/gpu=0,intel.com/gpu=1,intel.com/gpu=2,null ]
}

# ------------------------------------------------------------------- CDI specs

@test "amd-host: the spec: kind amd.com/gpu, one device per GPU by index and id, all; nodes only" {
	S="$BATS_FILE_TMPDIR/amd-host.json"
	run -0 "$NVBIND" cdi validate "$S"
	[[ "$output" == *"kind amd.com/gpu, 13 devices"* ]]
	run -0 jq -r '[.devices[].name] | join(",")' "$S"
	[ "$output" = "0,1,2,3,4,5,6,7,8,9,0x25bc3339d0ea0007,0x8838290a7af1b009,all" ]
	run -0 jq -r '.devices[] | select(.name == "2") | [.containerEdits.deviceNodes[].path] | join(" ")' "$S"
	[ "$output" = "/dev/dri/card3 /dev/dri/renderD130 /dev/kfd" ]
	run -0 jq -r '.devices[] | select(.name == "0x8838290a7af1b009") | [.containerEdits.deviceNodes[].path] | join(" ")' "$S"
	[ "$output" = "/dev/dri/card2 /dev/dri/renderD129 /dev/kfd" ]
	run -0 jq -r '.devices[] | select(.name == "all") | [.containerEdits.deviceNodes[].path | select(startswith("/dev/dri/renderD"))] | length' "$S"
	[ "$output" = 10 ]
	# no driver files, no hooks, no env: the container brings ROCm itself
	run -0 jq -r '[.. | objects | (.mounts // empty), (.hooks // empty), (.env // empty)] | flatten | length' "$S"
	[ "$output" = 0 ]
	run -0 jq -r '.cdiVersion' "$S"
	[ "$output" = 0.5.0 ] # podman 4.3.1 reads up to 0.5.0
}

@test "no-gpu root: the Intel spec: card, render, by-path links as bind mounts" {
	S="$BATS_FILE_TMPDIR/no-gpu.json"
	run -0 "$NVBIND" cdi validate "$S"
	run -0 jq -r '[.devices[].name] | join(",")' "$S"
	[ "$output" = "0,0000-00-02-0-0x4680,all" ]
	run -0 jq -r '.devices[0].containerEdits | [.deviceNodes[].path, .mounts[].containerPath] | join(" ")' "$S"
	[ "$output" = "/dev/dri/card0 /dev/dri/renderD128 /dev/dri/by-path/pci-0000:00:02.0-card /dev/dri/by-path/pci-0000:00:02.0-render" ]
	run -0 jq -r '.devices[0].containerEdits.mounts[0].options | join(",")' "$S"
	[ "$output" = bind,nosuid ] # not nodev: the mount is the device
}

@test "intel-host: no device for the vfio-pci GPU; MEI nodes with their GPU" {
	S="$BATS_FILE_TMPDIR/intel-host.json"
	run -0 "$NVBIND" cdi validate "$S"
	run -0 jq -r '[.devices[].name] | join(",")' "$S"
	[ "$output" = "0,1,2,0000-00-02-0-0xa780,0000-03-00-0-0x56a0,0000-06-00-0-0xe20b,all" ]
	run -0 jq -r '.devices[] | select(.name == "1") | [.containerEdits.deviceNodes[].path] | sort | join(" ")' "$S"
	[ "$output" = "/dev/dri/card1 /dev/dri/renderD129 /dev/mei1" ]
	run -0 jq -r '[.. | strings | select(contains("vfio") or contains("0000:09:00.0"))] | length' "$S"
	[ "$output" = 0 ]
}

@test "cdi generate: one spec per vendor in the default directory; --vendor; errors" {
	R="$BATS_TEST_TMPDIR/root"
	cp -a "$ROOTS/amd-host" "$R"
	run -0 --separate-stderr "$NVBIND" --root "$R" cdi generate
	[[ "$stderr" == *"wrote $R/etc/cdi/amd.com-gpu.json"* ]]
	[ -f "$R/etc/cdi/amd.com-gpu.json" ]
	[ ! -e "$R/etc/cdi/nvidia.com-gpu.json" ] # no NVIDIA GPU: no NVIDIA spec
	run -0 "$NVBIND" --root "$R" cdi list --spec-dir "$R/etc/cdi"
	[[ "$output" == *"amd.com/gpu=0"* && "$output" == *"amd.com/gpu=all"* ]]
	# --if-changed per spec: nothing changed, exit 4
	run -4 "$NVBIND" --root "$R" cdi generate --if-changed
	# --vendor picks one; a vendor without GPU is a clear error
	run -0 "$NVBIND" --root "$R" cdi generate --vendor amd --output - --format yaml
	[[ "$output" == *"kind: amd.com/gpu"* ]]
	run -1 --separate-stderr "$NVBIND" --root "$R" cdi generate --vendor intel --output -
	[[ "$stderr" == *"--vendor intel: no intel GPU found"* ]]
	run -1 --separate-stderr "$NVBIND" --root "$R" cdi generate --vendor nvidia --output -
	[[ "$stderr" == *"no NVIDIA GPU found"* ]]
	run -2 --separate-stderr "$NVBIND" --root "$R" cdi generate --vendor matrox --output -
	[[ "$stderr" == *"unknown vendor 'matrox'"* ]]
	# --output DIR names the file by the kind
	run -0 "$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/out/"
	[ -f "$BATS_TEST_TMPDIR/out/amd.com-gpu.json" ]
}

@test "mixed-nvidia-amd: info lists both vendors; cdi generate writes both specs; --vendor needed for one file" {
	info_json mixed-nvidia-amd
	[ "$status" -eq 0 ]
	[ "$(jqo '[.gpus[] | .vendor + "=" + .cdi_name] | join(" ")')" = "nvidia=nvidia.com/gpu=0 amd=amd.com/gpu=0" ]
	[ "$(jqo '[.drivers[] | .vendor + ":" + .kernel_module] | join(" ")')" = "nvidia:open amd:amdgpu" ]
	[ "$(jqo .driver.version)" = 570.124.06 ] # the top-level driver stays NVIDIA's
	run -0 "$NVBIND" --root "$ROOTS/mixed-nvidia-amd" info --gpus --format=json
	[ "$(jqo '[.[].id] | join(" ")')" = "nvidia.com/gpu=0 amd.com/gpu=0" ]
	R="$BATS_TEST_TMPDIR/root"
	cp -a "$ROOTS/mixed-nvidia-amd" "$R"
	run -0 --separate-stderr "$NVBIND" --root "$R" cdi generate
	[ "$(ls "$R/etc/cdi" | xargs)" = "amd.com-gpu.json nvidia.com-gpu.json" ]
	run -0 "$NVBIND" --root "$R" cdi list
	[[ "$output" == *"nvidia.com/gpu=0"* && "$output" == *"amd.com/gpu=0"* ]]
	run -0 "$NVBIND" --root "$R" cdi validate
	[ "$(grep -c ': valid' <<<"$output")" -eq 2 ]
	# one file, several vendors: a clear error naming them and the way out
	for out in "$BATS_TEST_TMPDIR/x.json" -; do
		run -2 --separate-stderr "$NVBIND" --root "$R" cdi generate --output "$out"
		[[ "$stderr" == *"GPUs of several vendors (nvidia, amd)"* ]]
		[[ "$stderr" == *"--vendor"* ]]
	done
	[ ! -e "$BATS_TEST_TMPDIR/x.json" ]
	run -2 --separate-stderr "$NVBIND" --root "$R" cdi generate --kind example.com/gpu --output "$BATS_TEST_TMPDIR/d/"
	[[ "$stderr" == *"--kind names one vendor's kind"* ]]
	run -0 "$NVBIND" --root "$R" cdi generate --vendor amd --output "$BATS_TEST_TMPDIR/x.json"
	[ "$(jq -r .kind "$BATS_TEST_TMPDIR/x.json")" = amd.com/gpu ]
	run -0 "$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/d/"
	[ "$(ls "$BATS_TEST_TMPDIR/d" | xargs)" = "amd.com-gpu.json nvidia.com-gpu.json" ]
}

# ---------------------------------------------------------------------- podman

# in_podman SPEC DEVICE SCRIPT: SCRIPT in a podman container given --device DEVICE, SPEC installed
in_podman() {
	need_engine podman
	run "$WITH_SPECS" "$BATS_FILE_TMPDIR/$1.json" -- podman --root "$PODMAN_DIR/storage" \
		--runroot "$PODMAN_DIR/run" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file run --rm --network none --device "$2" localhost/nvbind-e2e:plain \
		/bin/sh -c "$3"
	echo "$output"
}

# the GPU nodes a container sees: every entry under /dev/dri (recursively) and /dev/kfd, with
# major:minor for devices, sorted
DRI='find /dev/dri /dev/kfd \( -type c -o -type l \) 2>/dev/null | while read -r n; do if [ -c "$n" ]; then echo "$n $(stat -L -c "%t:%T" "$n")"; else echo "$n"; fi; done | sort'

@test "podman, amd-host: amd.com/gpu=0 sees card1, renderD128 and /dev/kfd, nothing else" {
	in_podman amd-host amd.com/gpu=0 "$DRI"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' '/dev/dri/card1 e2:1' '/dev/dri/renderD128 e2:80' '/dev/kfd eb:0')" ]
}

@test "podman, amd-host: an MI300X partition by index, an MI210 by its unique id" {
	in_podman amd-host amd.com/gpu=9 "$DRI"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' '/dev/dri/card10 e2:a' '/dev/dri/renderD137 e2:89' '/dev/kfd eb:0')" ]
	in_podman amd-host amd.com/gpu=0x8838290a7af1b009 "$DRI"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' '/dev/dri/card2 e2:2' '/dev/dri/renderD129 e2:81' '/dev/kfd eb:0')" ]
}

@test "podman, Intel iGPU: intel.com/gpu=0 sees card0, renderD128 and the by-path names" {
	in_podman no-gpu intel.com/gpu=0 "$DRI"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' '/dev/dri/by-path/pci-0000:00:02.0-card e2:0' '/dev/dri/by-path/pci-0000:00:02.0-render e2:80' '/dev/dri/card0 e2:0' '/dev/dri/renderD128 e2:80')" ]
}

@test "podman, intel-host: intel.com/gpu=1 (Arc A770) sees its nodes and MEI, nothing else" {
	in_podman intel-host intel.com/gpu=1 "$DRI; ls /dev/mei* 2>/dev/null; true"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' '/dev/dri/by-path/pci-0000:03:00.0-card e2:1' '/dev/dri/by-path/pci-0000:03:00.0-render e2:81' '/dev/dri/card1 e2:1' '/dev/dri/renderD129 e2:81' '/dev/mei1')" ]
}

@test "wsl2-host: info says WSL2; the spec has the one device all with /dev/dxg, both folders" {
	info_json wsl2-host
	[ "$(jqo '[.platform, .drivers[0].platform, .gpus[0].cdi_name] | join(" ")')" = "wsl2 wsl2 nvidia.com/gpu=all" ]
	[ "$(jqo '[.gpus[0].device_nodes[].path] | join(" ")')" = /dev/dxg ]
	S="$BATS_FILE_TMPDIR/wsl2-host.json"
	run -0 "$NVBIND" cdi validate "$S"
	run -0 jq -r '[.devices[].name] | join(",")' "$S"
	[ "$output" = all ] # no per-GPU names, no MIG
	run -0 jq -r '[.devices[0].containerEdits.deviceNodes[].path] + [.containerEdits.deviceNodes[]?.path] | join(" ")' "$S"
	[ "$output" = /dev/dxg ] # no control nodes
	run -0 jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/bin/nvidia-smi") | .hostPath' "$S"
	[[ "$output" == "$ROOTS/wsl2-host/usr/lib/wsl/drivers/"*/nvidia-smi ]]
	# every mount read-only at the path it has on the host (nvidia-smi also on PATH)
	run -0 jq -r '[.containerEdits.mounts[] | select(.containerPath != "/usr/bin/nvidia-smi") | select(.hostPath != "'"$ROOTS/wsl2-host"'" + .containerPath)] | length' "$S"
	[ "$output" = 0 ]
	run -0 jq -r '[.containerEdits.mounts[].options | index("ro")] | unique | map(tostring) | join(",")' "$S"
	[ "$output" = 0 ]
	run -0 jq -r '[.containerEdits.hooks[0].args[] | select(startswith("/usr/lib/wsl/"))] | map(split("/")[4]) | unique | join(",")' "$S"
	[ "$output" = drivers,lib ]
}

@test "podman, wsl2-host: nvidia.com/gpu=all sees /dev/dxg, nvidia-smi on PATH, libcuda.so.1 by name" {
	in_podman wsl2-host nvidia.com/gpu=all "stat -c '%n %t:%T' /dev/dxg; ls /dev/nvidia* 2>/dev/null; test -x /usr/bin/nvidia-smi && echo smi-ok; ldconfig -p | grep -c 'libcuda.so.1 '; probe-cuda"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/dxg a:3f"* ]]
	[[ "$output" != *"/dev/nvidia"* ]]
	[[ "$output" == *smi-ok* ]]
	[[ "$output" == *"nvbind-standin libcuda"* ]]
	in_podman wsl2-host nvidia.com/gpu=0 true
	[ "$status" -ne 0 ] # WSL2: only all
}

# ------------------------------------------------------------ nvbind-runtime

# run_amd SPEC|- ENV...: a runc bundle listing its GPU nodes, through nvbind-runtime
run_amd() {
	need_engine runc
	local spec=$1
	shift
	local B="$BATS_TEST_TMPDIR/bundle"
	rm -rf "$B"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$DRI"
	bundle_env "$B" "$@"
	local specs=()
	[ "$spec" = - ] || specs=("$BATS_FILE_TMPDIR/$spec.json")
	run "$WITH_SPECS" "${specs[@]}" -- "$RUNTIME" --root "$BATS_TEST_TMPDIR/state" run -b "$B" "v$BATS_TEST_NUMBER"
	echo "$output"
}

@test "nvbind-runtime: AMD_VISIBLE_DEVICES=0,2 gives exactly those GPUs' nodes" {
	run_amd amd-host AMD_VISIBLE_DEVICES=0,2
	[ "$status" -eq 0 ]
	[ "$(awk '{print $1}' <<<"$output" | xargs)" = "/dev/dri/card1 /dev/dri/card3 /dev/dri/renderD128 /dev/dri/renderD130 /dev/kfd" ]
}

@test "nvbind-runtime: AMD_VISIBLE_DEVICES forms: ranges, ids, all, none" {
	cases=(
		"0-1|/dev/dri/card1 /dev/dri/card2 /dev/dri/renderD128 /dev/dri/renderD129 /dev/kfd"
		"0x8838290a7af1b009|/dev/dri/card2 /dev/dri/renderD129 /dev/kfd"
		"1, 9|/dev/dri/card10 /dev/dri/card2 /dev/dri/renderD129 /dev/dri/renderD137 /dev/kfd"
		"none|"
		"void|"
		"|"
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r value expect <<<"$c"
		run_amd amd-host "AMD_VISIBLE_DEVICES=$value"
		[ "$status" -eq 0 ]
		got=$(awk '{print $1}' <<<"$output" | xargs)
		echo "AMD_VISIBLE_DEVICES=$value -> [$got] expected [$expect]"
		[ "$got" = "$expect" ]
	done
	run_amd amd-host AMD_VISIBLE_DEVICES=all
	[ "$status" -eq 0 ]
	[ "$(grep -c '^/dev/dri/renderD' <<<"$output")" -eq 10 ]
}

@test "nvbind-runtime: bad AMD_VISIBLE_DEVICES words are named; unknown devices unresolvable" {
	for bad in gpu0 3-1 0xzz 1-; do
		run_amd amd-host "AMD_VISIBLE_DEVICES=$bad"
		[ "$status" -ne 0 ]
		[[ "$output" == *"AMD_VISIBLE_DEVICES: '$bad' is not"* ]]
	done
	run_amd amd-host AMD_VISIBLE_DEVICES=12
	[ "$status" -ne 0 ]
	[[ "$output" == *"unresolvable CDI device amd.com/gpu=12"* ]]
}

@test "nvbind-runtime: no amd.com/gpu spec installed: one generated in memory from the host" {
	NVBIND_ROOT="$ROOTS/amd-host" run_amd - AMD_VISIBLE_DEVICES=1
	[ "$status" -eq 0 ]
	[ "$(awk '{print $1}' <<<"$output" | xargs)" = "/dev/dri/card2 /dev/dri/renderD129 /dev/kfd" ]
}

@test "nvbind-runtime, mixed host: NVIDIA_VISIBLE_DEVICES and AMD_VISIBLE_DEVICES together" {
	need_engine runc
	R="$BATS_TEST_TMPDIR/root"
	cp -a "$ROOTS/mixed-nvidia-amd" "$R"
	"$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/specs/" 2>/dev/null
	B="$BATS_TEST_TMPDIR/bundle"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$DRI; ls /dev/nvidia0"
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=0 AMD_VISIBLE_DEVICES=0
	run "$WITH_SPECS" "$BATS_TEST_TMPDIR/specs/nvidia.com-gpu.json" "$BATS_TEST_TMPDIR/specs/amd.com-gpu.json" -- \
		"$RUNTIME" --root "$BATS_TEST_TMPDIR/state" run -b "$B" mixed
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/nvidia0"* ]]
	# NVIDIA_DRIVER_CAPABILITIES (default compute,utility, no graphics) does not drop AMD's DRM nodes
	[[ "$output" == *"/dev/dri/renderD128 e2:80"* && "$output" == *"/dev/kfd eb:0"* ]]
}

@test "nvbind-runtime: a cdi.k8s.io annotation of another vendor's kind" {
	need_engine runc
	B="$BATS_TEST_TMPDIR/bundle"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "$DRI"
	bundle_edit "$B" '.annotations["cdi.k8s.io/gpu"] = "intel.com/gpu=0000-00-02-0-0x4680"'
	run "$WITH_SPECS" "$BATS_FILE_TMPDIR/no-gpu.json" -- "$RUNTIME" --root "$BATS_TEST_TMPDIR/state" run -b "$B" ann
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/dri/renderD128 e2:80"* ]]
	[[ "$output" == *"/dev/dri/by-path/pci-0000:00:02.0-render"* ]]
}

# ---------------------------------------------------------------------- doctor

# vendor_findings ROOT [ENV...]: the vendors check's findings as "severity code" lines
vendor_findings() {
	local root=$1
	shift
	run env "$@" "$NVBIND" --root "$root" doctor --json
	output=$(jq -r '.findings[] | select(.check == "vendors") | .severity + " " + .code' <<<"$output")
	echo "$output"
}

@test "doctor, amd-host: amdgpu loaded; the render and video groups a user lacks, with engine hints" {
	vendor_findings "$ROOTS/amd-host"
	[ "$output" = "$(printf '%s\n' 'ok vendor-driver-ok' 'info vendor-groups')" ]
	run env SUDO_USER=alice "$NVBIND" --root "$ROOTS/amd-host" doctor --json
	msg=$(jq -r '.findings[] | select(.code == "vendor-groups-missing") | .message + " FIX " + .fix' <<<"$output")
	echo "$msg"
	[[ "$msg" == *"user alice is not in video,render"* ]]
	[[ "$msg" == *"usermod -aG video,render alice"* ]]
	[[ "$msg" == *"--group-add render --group-add video"* && "$msg" == *"--group-add keep-groups"* ]]
}

@test "doctor, amd-host without /dev/kfd: an error per GPU naming the missing node" {
	R="$BATS_TEST_TMPDIR/root"
	cp -a "$ROOTS/amd-host" "$R"
	rm "$R/dev/kfd"
	vendor_findings "$R"
	[ "$(grep -c '^error vendor-node-missing$' <<<"$output")" -eq 10 ]
	run "$NVBIND" --root "$R" doctor --json
	jq -r '.findings[] | select(.code == "vendor-node-missing") | .message' <<<"$output" | grep -q 'GPU 0 (0000:03:00.0) has no /dev/kfd'
}

@test "doctor, intel-host and the no-gpu root's iGPU: driver found, nodes present" {
	vendor_findings "$ROOTS/intel-host"
	[[ "$output" == "ok vendor-driver-ok"* ]]
	[[ "$output" != *error* ]]
	run "$NVBIND" --root "$ROOTS/intel-host" doctor --json # exit: the machine's engines
	jq -r '.findings[] | select(.code == "vendor-driver-ok") | .message' <<<"$output" | grep -q '4 GPU(s), 3 with device nodes (CDI kind intel.com/gpu)'
	vendor_findings "$ROOTS/no-gpu"
	[[ "$output" == "ok vendor-driver-ok"* ]]
	vendor_findings "$ROOTS/h100-host"
	[ -z "$output" ] # NVIDIA only: the check has nothing to say
}

# ------------------------------------------------------------------------ API

@test "API: nvb_cdi_generate_string with kind amd.com/gpu gives the AMD inventory's spec" {
	local lib src="$BATS_TEST_TMPDIR/t.c" san=
	lib=$(dirname "$NVBIND")
	readelf -d "$lib/libnvbind.so.1" | grep -q 'NEEDED.*libasan' && san="-fsanitize=address,undefined"
	cat >"$src" <<'C'
#include <stdio.h>
#include <nvbind/nvbind.h>
int main(int argc, char **argv)
{
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(argv[1], &err);
	struct nvb_cdi_options o = {.size = sizeof(o), .kind = argc > 2 ? argv[2] : NULL,
				    .format = NVB_SPEC_JSON, .hook_path = "/usr/bin/nvbind-hook"};
	char *text = host ? nvb_cdi_generate_string(host, NULL, &o, &err) : NULL;
	if (!text) {
		fprintf(stderr, "error: %s\n", err.message);
		nvb_host_free(host);
		return 1;
	}
	fputs(text, stdout);
	nvb_free(text);
	nvb_host_free(host);
	return 0;
}
C
	# shellcheck disable=SC2086
	cc -Wall -Wextra -Werror $san -I"$BATS_TEST_DIRNAME/../../include" "$src" -L"$lib" -lnvbind \
		-Wl,-rpath,"$lib" -o "$BATS_TEST_TMPDIR/t"
	run -0 "$BATS_TEST_TMPDIR/t" "$ROOTS/mixed-nvidia-amd" amd.com/gpu
	[ "$(jqo '.kind + " " + ([.devices[].name] | join(","))')" = "amd.com/gpu 0,0x25bc3339d0ea0007,all" ]
	run -0 "$BATS_TEST_TMPDIR/t" "$ROOTS/mixed-nvidia-amd"
	[ "$(jqo .kind)" = nvidia.com/gpu ]
	run --separate-stderr "$BATS_TEST_TMPDIR/t" "$ROOTS/h100-host" intel.com/gpu
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no GPU of kind intel.com/gpu found"* ]]
}
