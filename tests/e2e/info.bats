#!/usr/bin/env bats
# nvbind info on every fixture root, checked field by field.

bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
	ensure_roots
	# roots built by an older builder run may lack the newest manifest
	[ -f "$ROOTS/wrapper-scripts/.nvbind-fixture" ] ||
		python3 "$FIXTURE_BUILDER" -q build wrapper-scripts "$ROOTS/wrapper-scripts"
	export ROOTS
}

@test "h100 capture: driver, GPU and device nodes" {
	info_json h100-host
	[ "$status" -eq 0 ]
	[ "$(jqo .driver.version)" = 580.159.04 ]
	[ "$(jqo .driver.kernel_module)" = open ]
	[ "$(jqo '.gpus | length')" = 1 ]
	[ "$(jqo '.gpus[0].vendor')" = nvidia ]
	[ "$(jqo '.gpus[0].index')" = 0 ]
	[ "$(jqo '.gpus[0].name')" = "NVIDIA H100 80GB HBM3" ]
	[ "$(jqo '.gpus[0].uuid')" = GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a ]
	[ "$(jqo '.gpus[0].pci_bus_id')" = 0000:00:06.0 ]
	[ "$(jqo '.gpus[0].minor')" = 0 ]
	[ "$(jqo '.gpus[0].pci.device')" = 0x2330 ]
	[ "$(jqo '.gpus[0].pci.class')" = 0x030200 ]
	[ "$(jqo '.gpus[0].pci.driver')" = nvidia ]
	[ "$(jqo '.gpus[0].device_nodes[0] | "\(.path) \(.major):\(.minor)"')" = "/dev/nvidia0 195:0" ]
	[ "$(jqo '.control_nodes[] | select(.path=="/dev/nvidiactl") | "\(.major):\(.minor)"')" = 195:255 ]
	[ "$(jqo '.control_nodes[] | select(.path=="/dev/nvidia-uvm") | "\(.major):\(.minor)"')" = 238:0 ]
	[ "$(jqo '.control_nodes[] | select(.path=="/dev/nvidia-uvm-tools") | "\(.major):\(.minor)"')" = 238:1 ]
	[ "$(jqo '.control_nodes[] | select(.path=="/dev/nvidia-caps/nvidia-cap1") | .major')" = 241 ]
	[ "$(jqo '[.problems[] | select(.severity=="error")] | length')" = 0 ]
	[ "$(jqo '.missing | length')" = 0 ]
}

@test "h100 capture: NVML stand-in enriches memory, compute capability, MIG mode" {
	info_json h100-host
	[ "$(jqo .driver.nvml)" = true ]
	[ "$(jqo '.gpus[0].compute_capability')" = 9.0 ]
	[ "$(jqo '.gpus[0].mig_mode')" = disabled ]
	[ "$(jqo '.gpus[0].memory_total_bytes')" -gt 80000000000 ]
	info_json h100-host --no-nvml
	[ "$(jqo .driver.nvml)" = false ]
	[ "$(jqo '.gpus[0].memory_total_bytes')" = null ]
	[ "$(jqo '.gpus[0].compute_capability')" = null ]
}

@test "h100 capture: driver files from /usr/local/nvidia, compat libraries of 580.95.05 never" {
	info_json h100-host
	[ "$(jqo '.files[] | select(.path=="/usr/local/nvidia/lib64/libcuda.so.580.159.04") | "\(.kind) \(.soname) \(.capabilities|join(","))"')" = "library libcuda.so.1 compute" ]
	[ "$(jqo '.files[] | select(.soname=="libnvidia-ml.so.1") | .capabilities | join(",")')" = utility ]
	[ "$(jqo '.files[] | select(.soname=="libGLX_nvidia.so.0") | .capabilities | join(",")')" = graphics,display ]
	[ "$(jqo '.files[] | select(.soname=="libnvcuvid.so.1") | .capabilities | join(",")')" = video ]
	[ "$(jqo '[.files[] | select(.path | contains("580.95.05"))] | length')" = 0 ]
	[ "$(jqo '[.files[] | select(.path | contains("/cuda-13.0/compat"))] | length')" = 0 ]
	# every library is of the running driver's version, found once
	[ "$(jqo '[.files[] | select(.kind=="library") | select(.path | endswith("580.159.04") | not)] | length')" = 0 ]
	[ "$(jqo '[.files[] | select(.kind=="library") | .path] | (length == (unique | length))')" = true ]
	[ "$(jqo '.files[] | select(.kind=="binary") | .path' | grep -c /usr/local/nvidia/bin/)" -eq 5 ]
	[ "$(jqo '[.files[] | select(.kind=="firmware")] | length')" = 2 ]
	[ "$(jqo '.driver.firmware_dir')" = /usr/local/nvidia/firmware/nvidia/580.159.04 ]
	[ "$(jqo '.files[] | select(.link_path=="/usr/share/vulkan/icd.d/nvidia_icd.json") | .path')" = /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]
	[ "$(jqo '.files[] | select(.link_path=="/usr/share/glvnd/egl_vendor.d/10_nvidia.json") | .kind')" = config ]
}

@test "debian-4gpu: GPUs indexed in PCI bus order, not minor order" {
	info_json debian-4gpu
	[ "$status" -eq 0 ]
	[ "$(jqo '[.gpus[].pci_bus_id] | join(" ")')" = "0000:07:00.0 0000:0f:00.0 0000:47:00.0 0000:4e:00.0" ]
	[ "$(jqo '[.gpus[].minor] | map(tostring) | join(" ")')" = "2 0 3 1" ]
	[ "$(jqo '[.gpus[].index] | map(tostring) | join(" ")')" = "0 1 2 3" ]
	[ "$(jqo '.gpus[0].device_nodes[] | select(.path=="/dev/nvidia2") | "\(.major):\(.minor)"')" = 195:2 ]
	[ "$(jqo .driver.kernel_module)" = proprietary ]
	[ "$(jqo .driver.version)" = 550.54.14 ]
}

@test "debian-4gpu: dynamic majors read from the nodes, MIG devices with cap nodes" {
	info_json debian-4gpu
	[ "$(jqo '.control_nodes[] | select(.path=="/dev/nvidia-uvm") | .major')" = 509 ]
	[ "$(jqo '.control_nodes[] | select(.path=="/dev/nvidia-modeset") | "\(.major):\(.minor)"')" = 195:254 ]
	[ "$(jqo '.gpus[1].mig_mode')" = enabled ]
	[ "$(jqo '.gpus[1].mig_devices | length')" = 2 ]
	[ "$(jqo '.gpus[1].mig_devices[0] | "\(.gi):\(.ci)"')" = 1:0 ]
	[ "$(jqo '[.gpus[1].mig_devices[0].device_nodes[] | "\(.path)=\(.major):\(.minor)"] | join(" ")')" = "/dev/nvidia-caps/nvidia-cap12=510:12 /dev/nvidia-caps/nvidia-cap13=510:13" ]
	[ "$(jqo '[.gpus[0,2,3].mig_devices[]] | length')" = 0 ]
}

@test "debian-4gpu: each GPU and MIG device shows the CDI name cdi generate gives it" {
	info_json debian-4gpu
	[ "$status" -eq 0 ]
	[ "$(jqo '[.gpus[].cdi_name] | join(" ")')" = "nvidia.com/gpu=0 nvidia.com/gpu=1 nvidia.com/gpu=2 nvidia.com/gpu=3" ]
	# MIG devices are named <gpu index>:<MIG device number>, not by GPU:compute instance
	[ "$(jqo '[.gpus[1].mig_devices[] | "\(.gi):\(.ci)=\(.cdi_name)"] | join(" ")')" = "1:0=nvidia.com/gpu=1:0 2:0=nvidia.com/gpu=1:1" ]
	names=$(jqo '[.gpus[] | .cdi_name, .mig_devices[].cdi_name] | join(" ")')
	# every name is one the generated spec defines, for the same device nodes
	run --separate-stderr "$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output -
	[ "$status" -eq 0 ]
	spec=$output
	for q in $names; do
		jq -e --arg n "${q#nvidia.com/gpu=}" '.devices[] | select(.name == $n)' <<<"$spec" >/dev/null
	done
	[ "$(jq -r '.devices[] | select(.name == "1:1") | [.containerEdits.deviceNodes[].path] | join(" ")' <<<"$spec")" = \
		"/dev/nvidia0 /dev/nvidia-caps/nvidia-cap21 /dev/nvidia-caps/nvidia-cap22" ]
	info_json debian-4gpu
	[ "$(jqo '.gpus[1].mig_devices[1].device_nodes[0].path')" = /dev/nvidia-caps/nvidia-cap21 ]

	run "$NVBIND" --root "$ROOTS/debian-4gpu" info
	[ "$status" -eq 0 ]
	[[ "$output" == *"  GPU 1: NVIDIA A100-SXM4-80GB
    CDI name:    nvidia.com/gpu=1
"* ]]
	[[ "$output" == *"    MIG device:  nvidia.com/gpu=1:1 (GPU instance 2, compute instance 0) MIG-2a4c6e80-1b3d-5f7a-9c0e-2d4f6a8c0e12
                 /dev/nvidia-caps/nvidia-cap21 (510:21), /dev/nvidia-caps/nvidia-cap22 (510:22)"* ]]
	# no "MIG G:C" label that reads like a device name
	! grep -q 'MIG [0-9]*:[0-9]' <<<"$output"

	# the kind of the configuration (cdi.kind), as cdi generate writes it
	printf '[cdi]\nkind = "example.com/gpu"\n' >"$BATS_TEST_TMPDIR/config.toml"
	run "$NVBIND" --config "$BATS_TEST_TMPDIR/config.toml" --root "$ROOTS/debian-4gpu" info --json
	[ "$(jqo '.gpus[1].mig_devices[0].cdi_name')" = example.com/gpu=1:0 ]
}

@test "a GPU without a device node has no CDI name (the generator gives it no device)" {
	cp -a "$ROOTS/h100-host" "$BATS_TEST_TMPDIR/root"
	rm "$BATS_TEST_TMPDIR/root/dev/nvidia0"
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" info --json
	[ "$(jqo '.gpus[0].cdi_name')" = null ]
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" info
	[[ "$output" == *"CDI name:    (none: the GPU has no device node)"* ]]
}

@test "debian-4gpu: 32-bit libraries tagged compat32, stale 535 and Mesa libraries never selected" {
	info_json debian-4gpu
	[ "$(jqo '[.files[] | select(.elf_class==32)] | length')" -gt 3 ]
	[ "$(jqo '[.files[] | select(.elf_class==32) | select(.capabilities | index("compat32") | not)] | length')" = 0 ]
	[ "$(jqo '.files[] | select(.elf_class==32 and .soname=="libcuda.so.1") | .path')" = /usr/lib/i386-linux-gnu/libcuda.so.550.54.14 ]
	[ "$(jqo '[.files[] | select(.path | contains("535."))] | length')" = 0 ]
	[ "$(jqo '[.files[] | select(.path | test("mesa|libGL\\.so|libEGL\\.so"))] | length')" = 0 ]
	[ "$(jqo '.problems[] | select(.code=="stale-libraries") | .severity')" = warning ]
	jqo '.problems[] | select(.code=="stale-libraries") | .message' | grep -q 535.104.05
	[ "$(jqo '.files[] | select(.kind=="socket") | .path')" = /run/nvidia-persistenced/socket ]
}

@test "no-libs: module loaded without user-space libraries is a broken install, exit 3" {
	info_json no-libs
	[ "$status" -eq 3 ]
	[ "$(jqo '.gpus | length')" = 1 ]
	[ "$(jqo '.problems[] | select(.code=="libraries-missing") | .severity')" = error ]
	jqo '.missing[]' | grep -qx libcuda.so
	run "$NVBIND" --root "$ROOTS/no-libs" info
	[ "$status" -eq 3 ]
	[[ "$output" == *"loaded but none of its user-space libraries"* ]]
	[[ "$output" == *"fix: install the NVIDIA user-space driver package"* ]]
	[[ "$output" != *"No NVIDIA GPU"* ]]
}

@test "mismatch: libraries of another version than the module are reported as such" {
	info_json mismatch
	[ "$status" -eq 3 ]
	[ "$(jqo '.problems[] | select(.code=="library-version-mismatch") | .severity')" = error ]
	jqo '.problems[] | select(.code=="library-version-mismatch") | .message' | grep -q '560.35.03.*550.54.14'
	[ "$(jqo '[.files[] | select(.kind=="library")] | length')" = 0 ]
}

@test "no-gpu: says clearly there is no NVIDIA GPU, lists the Intel iGPU, exits 0" {
	run "$NVBIND" --root "$ROOTS/no-gpu" info
	[ "$status" -eq 0 ]
	[[ "$output" == *"No NVIDIA GPU found on this host."* ]]
	[[ "$output" == *"== Intel =="* ]]
	info_json no-gpu
	[ "$status" -eq 0 ]
	[ "$(jqo '[.gpus[] | select(.vendor == "nvidia")] | length')" = 0 ]
	[ "$(jqo '[.gpus[] | select(.vendor == "intel")] | length')" = 1 ]
	[ "$(jqo .driver.version)" = null ]
	[ "$(jqo '.problems[0].code')" = no-gpu ]
	[ "$(jqo '.problems[0].vendor')" = nvidia ]
	[ "$(jqo '[.drivers[].vendor] | join(",")')" = nvidia,intel ]
	[ "$(jqo '.drivers[0].gpu_count')" = 0 ]
}

@test "NVBIND_ROOT selects the host root like --root" {
	NVBIND_ROOT="$ROOTS/h100-host" run "$NVBIND" info --json
	[ "$status" -eq 0 ]
	[ "$(jqo '.gpus[0].uuid')" = GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a ]
}

@test "unreadable /proc entry is reported, not taken for 'no GPU'" {
	cp -a "$ROOTS/h100-host" "$BATS_TEST_TMPDIR/root"
	info="$BATS_TEST_TMPDIR/root/proc/driver/nvidia/gpus/0000:00:06.0/information"
	rm "$info" && mkdir "$info" # a directory where a file is expected cannot be read
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" info --json
	[ "$status" -eq 3 ]
	[ "$(jqo '.problems[] | select(.code=="proc-unreadable") | .severity')" = error ]
	jqo '.problems[] | select(.code=="proc-unreadable") | .message' | grep -q 'gpus/0000:00:06.0/information'
	[ "$(jqo '[.problems[] | select(.code=="no-gpu")] | length')" = 1 ] # no GPU listed, and says why
}

@test "a corrupt ld.so.cache is reported and the directories are scanned instead" {
	cp -a "$ROOTS/h100-host" "$BATS_TEST_TMPDIR/root"
	head -c 100 "$ROOTS/h100-host/etc/ld.so.cache" >"$BATS_TEST_TMPDIR/root/etc/ld.so.cache"
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" info --json
	[ "$(jqo '.problems[] | select(.code=="ldcache-corrupt") | .severity')" = warning ]
	jqo '.problems[] | select(.code=="ldcache-corrupt") | .message' | grep -q 'ld.so.cache'
	[ "$(jqo '.files[] | select(.soname=="libcuda.so.1") | .path')" = /usr/local/nvidia/lib64/libcuda.so.580.159.04 ]
}

@test "no ld.so.cache (NixOS-style): libraries found by scanning ld.so.conf and standard dirs" {
	cp -a "$ROOTS/h100-host" "$BATS_TEST_TMPDIR/root"
	rm "$BATS_TEST_TMPDIR/root/etc/ld.so.cache"
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" info --json
	[ "$status" -eq 0 ]
	[ "$(jqo '.files[] | select(.soname=="libcuda.so.1") | .path')" = /usr/local/nvidia/lib64/libcuda.so.580.159.04 ]
	[ "$(jqo '[.files[] | select(.path | contains("580.95.05"))] | length')" = 0 ]
}

@test "wrapper-scripts: the ELF programs are selected, the /usr/bin wrapper scripts skipped (JSON)" {
	info_json wrapper-scripts
	[ "$status" -eq 0 ]
	[ "$(jqo '.missing | length')" = 0 ]
	for p in nvidia-smi nvidia-debugdump nvidia-persistenced nvidia-cuda-mps-control nvidia-cuda-mps-server; do
		[ "$(jqo ".files[] | select(.kind==\"binary\" and (.path | endswith(\"/$p\"))) | .path")" = "/usr/local/nvidia/bin/$p" ]
		[ "$(jqo ".skipped_files[] | select(.path==\"/usr/bin/$p\") | \"\(.kind) \(.reason) \(.chosen)\"")" = \
			"binary shell script /usr/local/nvidia/bin/$p" ]
	done
	# only the wrapper's exec line says where the fabric manager is
	[ "$(jqo '.skipped_files[] | select(.path=="/usr/bin/nv-fabricmanager") | .chosen')" = \
		/opt/nvidia-fabricmanager/bin/nv-fabricmanager ]
	[ "$(jqo '.skipped_files | length')" = 6 ]
	# no script is a driver file; every binary is an ELF
	[ "$(jqo '[.files[] | select(.path | startswith("/usr/bin/"))] | length')" = 0 ]
	[ "$(jqo '[.files[] | select(.kind=="binary" and .elf_class != 64)] | length')" = 0 ]
	[ "$(jqo '.files[] | select(.soname=="libcuda.so.1" and .elf_class==64) | .path')" = /usr/local/nvidia/lib64/libcuda.so.580.95.05 ]
	[ "$(jqo '.files[] | select(.soname=="libcuda.so.1" and .elf_class==32) | .path')" = /usr/local/nvidia/lib/libcuda.so.580.95.05 ]
}

@test "wrapper-scripts: nvbind info lists the skipped scripts and what is used instead (text)" {
	run "$NVBIND" --root "$ROOTS/wrapper-scripts" info
	[ "$status" -eq 0 ]
	[[ "$output" == *"Skipped:      6 file(s) not used (never mounted)"* ]]
	[[ "$output" == *"  /usr/bin/nvidia-smi (shell script) -> /usr/local/nvidia/bin/nvidia-smi"* ]]
	[[ "$output" == *"  /usr/bin/nv-fabricmanager (shell script) -> /opt/nvidia-fabricmanager/bin/nv-fabricmanager"* ]]
	[[ "$output" == *"Missing:      nothing"* ]]
	# a host without skipped files has no such section
	run "$NVBIND" --root "$ROOTS/debian-4gpu" info
	[[ "$output" != *"Skipped:"* ]]
	info_json debian-4gpu
	[ "$(jqo '.skipped_files | length')" = 0 ]
}

@test "a script with no ELF program behind it, a linker script as a library: skipped, reported missing" {
	cp -a "$ROOTS/wrapper-scripts" "$BATS_TEST_TMPDIR/root"
	r="$BATS_TEST_TMPDIR/root"
	rm "$r/usr/local/nvidia/bin/nvidia-smi"
	# without a cache (NixOS-style scan) the text file in the library directory is looked at
	rm "$r/etc/ld.so.cache"
	printf '/* GNU ld script */\nGROUP ( libnvidia-cfg.so.1 )\n' >"$r/usr/local/nvidia/lib64/libnvidia-cfg.so.580.95.05"
	run "$NVBIND" --root "$r" info --json
	[ "$(jqo '.skipped_files[] | select(.path=="/usr/bin/nvidia-smi") | "\(.reason) \(.chosen)"')" = "shell script null" ]
	[ "$(jqo '.skipped_files[] | select(.path=="/usr/local/nvidia/lib64/libnvidia-cfg.so.580.95.05") | "\(.kind) \(.reason) \(.chosen)"')" = \
		"library linker script null" ]
	[ "$(jqo '[.files[] | select(.path | contains("libnvidia-cfg"))] | length')" = 0 ]
	[ "$(jqo '.missing | sort | join(",")')" = "libnvidia-cfg.so,nvidia-smi" ]
	run "$NVBIND" --root "$r" info
	[[ "$output" == *"  /usr/bin/nvidia-smi (shell script) -> none"* ]]
	[[ "$output" == *"(linker script) -> none"* ]]
}

@test "usage errors exit 2 with error and hint; a missing root exits 1" {
	run "$NVBIND" info --bogus
	[ "$status" -eq 2 ]
	run "$NVBIND" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"nvbind: error: unknown command 'frobnicate'"* ]]
	[[ "$output" == *"hint: "* ]]
	run "$NVBIND" --log-level loud info
	[ "$status" -eq 2 ]
	run "$NVBIND" --root /nonexistent/root info
	[ "$status" -eq 1 ]
	[[ "$output" == *"host root /nonexistent/root"* ]]
	[[ "$output" == *"hint: pass an existing directory"* ]]
}

@test "logging: levels, JSON lines, log file, NVBIND_LOG_LEVEL" {
	run --separate-stderr "$NVBIND" --root "$ROOTS/h100-host" --log-level debug --log-format json info --json
	[ "$status" -eq 0 ]
	[ -n "$stderr" ]
	while read -r line; do
		jq -e '.level and .module and .msg and .time' <<<"$line" >/dev/null
	done <<<"$stderr"
	jq -e .gpus <<<"$output" >/dev/null # stdout stays pure JSON
	NVBIND_LOG_LEVEL=debug run --separate-stderr "$NVBIND" --root "$ROOTS/h100-host" info
	[[ "$stderr" == *"debug"* ]]
	run "$NVBIND" --root "$ROOTS/h100-host" --log-level debug --log-file "$BATS_TEST_TMPDIR/log" info
	grep -q 'debug' "$BATS_TEST_TMPDIR/log"
	run --separate-stderr "$NVBIND" --root "$ROOTS/h100-host" info
	[ -z "$stderr" ] # default level: quiet when all is well
}
