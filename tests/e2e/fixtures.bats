#!/usr/bin/env bats
# The fixture-root builder (tests/fixtures/nvbind-fixture) and the roots it makes.
#
# Builds every root once (build-all) into a temporary directory, or uses NVB_FIXTURE_ROOTS when
# set (an OUTBASE of an earlier build-all). Needs cc (with -m32 for the 32-bit check), readelf,
# ldconfig, jq; root for device nodes and the chroot check (skipped otherwise).

bats_require_minimum_version 1.5.0

FX_DIR="$BATS_TEST_DIRNAME/../fixtures"
FX="$FX_DIR/nvbind-fixture"
SHARED="${NVB_SHARED_FIXTURES:-$BATS_TEST_DIRNAME/../../../shared/fixtures}"
CAPTURE="$SHARED/h100-host"

setup_file() {
	export ROOTS="${NVB_FIXTURE_ROOTS:-$BATS_FILE_TMPDIR/roots}"
	if [ -z "${NVB_FIXTURE_ROOTS:-}" ]; then
		"$FX" build-all "$ROOTS" 2>"$BATS_FILE_TMPDIR/build-all.log" || {
			cat "$BATS_FILE_TMPDIR/build-all.log" >&2
			return 1
		}
	fi
	cc -O1 -Wall -Werror -o "$BATS_FILE_TMPDIR/standin-probe" "$BATS_TEST_DIRNAME/helpers/standin-probe.c" -ldl
}

setup() {
	ROOTS="${NVB_FIXTURE_ROOTS:-$BATS_FILE_TMPDIR/roots}"
	PROBE="$BATS_FILE_TMPDIR/standin-probe"
}

# marker ROOT JQ-FILTER
marker() { jq -r "$2" "$ROOTS/$1/.nvbind-fixture"; }

# libdir ROOT: the host path of the directory holding the root's current 64-bit libcuda
libdir() { echo "$ROOTS/$1$(marker "$1" .lib_dir)"; }

soname() { readelf -d "$1" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'; }

majmin() { stat -c '%t:%T' "$1"; }  # hex, as stat prints them

need_nodes() {
	[ "$(marker "$1" .device_nodes)" = created ] || skip "device nodes were not created: $(marker "$1" .device_nodes)"
}

# ------------------------------------------------------------------------------------- builder

@test "build-all builds every manifest and the capture, each with a marker, fast" {
	for name in debian-4gpu no-libs no-gpu mismatch wrapper-scripts h100-host amd-host intel-host wsl2-host mig-h100 \
		mixed-nvidia-amd; do
		[ -f "$ROOTS/$name/.nvbind-fixture" ]
		[ "$(marker "$name" .name)" = "$name" ]
		[ "$(marker "$name" .status)" = null ]
		# < 10 s per root on 2 cores is the budget; this catches a gross regression.
		run jq -e '.build_seconds < 10' "$ROOTS/$name/.nvbind-fixture"
		[ "$status" -eq 0 ]
	done
	[ "$(marker h100-host .kind)" = capture ]
	[ "$(marker debian-4gpu .kind)" = manifest ]
}

@test "list names every root" {
	run -0 "$FX" list
	for name in debian-4gpu no-libs no-gpu mismatch wrapper-scripts h100-host amd-host intel-host wsl2-host mig-h100 \
		mixed-nvidia-amd; do
		[[ "$output" == *"$name"* ]]
	done
}

@test "builder refuses / and non-empty directories without a marker" {
	run -1 "$FX" build no-gpu /
	[[ "$output" == *"refusing"* ]]
	mkdir -p "$BATS_TEST_TMPDIR/precious"
	echo keep >"$BATS_TEST_TMPDIR/precious/file"
	run -1 "$FX" build no-gpu "$BATS_TEST_TMPDIR/precious"
	[[ "$output" == *"no .nvbind-fixture marker"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/precious/file")" = keep ]
	run -1 "$FX" build-all /
}

@test "builder rebuilds over its own root and into an empty directory" {
	run -0 "$FX" -q build no-gpu "$BATS_TEST_TMPDIR/r"
	touch "$BATS_TEST_TMPDIR/r/stray"
	run -0 "$FX" -q build no-gpu "$BATS_TEST_TMPDIR/r"
	[ ! -e "$BATS_TEST_TMPDIR/r/stray" ]
	mkdir "$BATS_TEST_TMPDIR/empty"
	run -0 "$FX" -q build "$FX_DIR/roots/no-libs.toml" "$BATS_TEST_TMPDIR/empty"
	[ "$(jq -r .name "$BATS_TEST_TMPDIR/empty/.nvbind-fixture")" = no-libs ]
}

@test "a bad manifest is an error with the file named, not a traceback" {
	printf 'name = "bad"\n[driver]\nversion = "550.54.14"\nmodule = "closed"\n' >"$BATS_TEST_TMPDIR/bad.toml"
	run -1 "$FX" build "$BATS_TEST_TMPDIR/bad.toml" "$BATS_TEST_TMPDIR/out"
	[[ "$output" == *"bad.toml"*"driver.module"* ]]
	[[ "$output" != *Traceback* ]]
}

# ------------------------------------------------------------------------------- ELF and cache

@test "driver libraries are ELF shared objects with the right SONAMEs" {
	d="$ROOTS/debian-4gpu/usr/lib/x86_64-linux-gnu"
	[ "$(soname "$d/libcuda.so.550.54.14")" = libcuda.so.1 ]
	[ "$(soname "$d/libnvidia-ml.so.550.54.14")" = libnvidia-ml.so.1 ]
	[ "$(soname "$d/libnvidia-glcore.so.550.54.14")" = libnvidia-glcore.so.550.54.14 ]
	[ "$(soname "$d/libnvidia-nvvm.so.550.54.14")" = libnvidia-nvvm.so.4 ]
	[ "$(soname "$d/libGLX_nvidia.so.550.54.14")" = libGLX_nvidia.so.0 ]
	[ "$(soname "$d/libcuda.so.535.104.05")" = libcuda.so.1 ]
	[ "$(soname "$d/libnvidia-glcore.so.535.104.05")" = libnvidia-glcore.so.535.104.05 ]
	[ "$(soname "$d/libGLX_mesa.so.0.0.0")" = libGLX_mesa.so.0 ]
	[ "$(readlink "$d/libcuda.so.1")" = libcuda.so.550.54.14 ]
	[ "$(readlink "$d/libcuda.so")" = libcuda.so.1 ]
	[ "$(readlink "$d/libGLX_indirect.so.0")" = libGLX_nvidia.so.550.54.14 ]
	d32="$ROOTS/debian-4gpu/usr/lib/i386-linux-gnu"
	[ "$(soname "$d32/libcuda.so.550.54.14")" = libcuda.so.1 ]
	readelf -h "$d32/libcuda.so.550.54.14" | grep -q 'Class:.*ELF32'
	readelf -h "$d32/libnvidia-glcore.so.550.54.14" | grep -q 'Machine:.*80386'
	# every file row of the capture with a SONAME has it
	while IFS=$'\t' read -r typ path _size _mode sn; do
		[ "$typ" = file ] && [ "$sn" != - ] || continue
		[ "$(soname "$ROOTS/h100-host$path")" = "$sn" ] || { echo "$path: $(soname "$ROOTS/h100-host$path") != $sn"; false; }
	done <"$CAPTURE/driver-files.tsv"
}

@test "capture: every driver-files row exists with its mode; links keep their target strings" {
	r="$ROOTS/h100-host"
	while IFS=$'\t' read -r typ path a b _sn; do
		case "$typ" in
		file) [ -f "$r$path" ] && [ ! -L "$r$path" ] && [ "$(stat -c %a "$r$path")" = "$b" ] ||
			{ echo "file $path"; false; } ;;
		link) [ "$(readlink "$r$path")" = "$a" ] || { echo "link $path"; false; } ;;
		dir) [ -d "$r$path" ] || { echo "dir $path"; false; } ;;
		esac
	done <"$CAPTURE/driver-files.tsv"
	# config content from json-configs.txt, through the link row that names it
	grep -q '"library_path" : "libEGL_nvidia.so.0"' "$r/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"
	grep -q '"api_version" : "1.4.312"' "$r/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"
	jq -e . "$r/usr/local/nvidia/share/vulkan/implicit_layer.d/nvidia_layers.json" >/dev/null
	cmp "$r/etc/os-release" "$CAPTURE/os-release"
}

@test "ld.so.cache lists the root's libcuda.so.1" {
	run -0 ldconfig -p -C "$ROOTS/debian-4gpu/etc/ld.so.cache"
	[[ "$output" == *"libcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1"* ]]
	[[ "$output" == *"libcuda.so.1 (libc6) => /lib/i386-linux-gnu/libcuda.so.1"* ]]
	[[ "$output" == *"libnvidia-glcore.so.550.54.14 (libc6) => /lib/i386-linux-gnu/"* ]]
	run -0 ldconfig -p -C "$ROOTS/h100-host/etc/ld.so.cache"
	[[ "$output" == *"libcuda.so.1 (libc6,x86-64) => /usr/local/nvidia/lib64/libcuda.so.1"* ]]
	run -0 ldconfig -p -C "$ROOTS/mismatch/etc/ld.so.cache"
	[[ "$output" == *"libcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1"* ]]
	for name in no-libs no-gpu; do
		run -0 ldconfig -p -C "$ROOTS/$name/etc/ld.so.cache"
		[[ "$output" == *"libz.so.1 (libc6,x86-64)"* ]]
		[[ "$output" != *nvidia* && "$output" != *libcuda* ]]
	done
}

@test "debian-4gpu: stale 535 and Mesa libraries are in ld.so.cache for the prober to reject" {
	run -0 ldconfig -p -C "$ROOTS/debian-4gpu/etc/ld.so.cache"
	[[ "$output" == *"libnvidia-glcore.so.535.104.05 (libc6,x86-64) => /lib/x86_64-linux-gnu/libnvidia-glcore.so.535.104.05"* ]]
	[[ "$output" == *"libnvidia-tls.so.535.104.05 (libc6,x86-64)"* ]]
	[[ "$output" == *"libcuda.so.1 (libc6,x86-64) => /opt/nvidia-535.104.05/lib64/libcuda.so.1"* ]]
	[[ "$output" == *"libGLX_mesa.so.0 (libc6,x86-64)"* ]]
	[[ "$output" == *"libEGL_mesa.so.0 (libc6,x86-64)"* ]]
	[[ "$output" == *"libGL.so.1 (libc6,x86-64)"* ]]
	[ "$(readlink -f "$ROOTS/debian-4gpu/opt/nvidia-535.104.05/lib64/libcuda.so.1")" = \
		"$ROOTS/debian-4gpu/opt/nvidia-535.104.05/lib64/libcuda.so.535.104.05" ]
	# and no plain "ELF" (non-libc6) entries: a parser keeping only type 3 still sees the 32-bit libs
	[[ "$output" != *"(ELF)"* ]]
}

@test "capture: driver entries of the built ld.so.cache equal the captured ldconfig -p" {
	filter() { grep -E '=> (/usr/local/nvidia/|/lib/lib)' | sort; }
	diff <(filter <"$CAPTURE/ldconfig-p.txt") <(ldconfig -p -C "$ROOTS/h100-host/etc/ld.so.cache" | filter)
}

# ----------------------------------------------------------------------------- kernel side

@test "device nodes have the right major:minor and modes" {
	need_nodes debian-4gpu
	r="$ROOTS/debian-4gpu/dev"
	[ "$(majmin "$r/nvidiactl")" = c3:ff ]
	[ "$(majmin "$r/nvidia-modeset")" = c3:fe ]
	[ "$(majmin "$r/nvidia0")" = c3:0 ]
	[ "$(majmin "$r/nvidia3")" = c3:3 ]
	[ "$(majmin "$r/nvidia-uvm")" = 1fd:0 ]        # 509, not 238
	[ "$(majmin "$r/nvidia-uvm-tools")" = 1fd:1 ]
	[ "$(majmin "$r/nvidia-caps/nvidia-cap1")" = 1fe:1 ]   # 510, not 241
	[ "$(majmin "$r/nvidia-caps/nvidia-cap12")" = 1fe:c ]  # gpu0/gi1/access
	[ "$(majmin "$r/nvidia-caps/nvidia-cap13")" = 1fe:d ]  # gpu0/gi1/ci0/access
	[ "$(majmin "$r/dri/renderD129")" = e2:81 ]
	[ "$(stat -c %a "$r/nvidia-caps/nvidia-cap1")" = 400 ]
	[ -c "$r/nvidia2" ] && [ "$(stat -c %a "$r/nvidia2")" = 666 ]
	need_nodes h100-host
	while IFS=$'\t' read -r path maj min; do
		[ "$(majmin "$ROOTS/h100-host$path")" = "$(printf '%x:%x' "$maj" "$min")" ] || { echo "$path"; false; }
	done <"$CAPTURE/dev-majmin.tsv"
	while IFS=$'\t' read -r typ path mode _uid _gid; do
		[ "$(stat -c %a "$ROOTS/h100-host$path")" = "$mode" ] || { echo "$path"; false; }
		case "$typ" in
		d) [ -d "$ROOTS/h100-host$path" ] ;;
		c) [ -c "$ROOTS/h100-host$path" ] ;;
		esac
	done <"$CAPTURE/dev-nodes.tsv"
	[ ! -e "$ROOTS/no-gpu/dev/nvidiactl" ]
	[ -c "$ROOTS/no-libs/dev/nvidia0" ]
}

@test "/proc/driver/nvidia looks like the real one" {
	r="$ROOTS/debian-4gpu/proc"
	head -1 "$r/driver/nvidia/version" | grep -qx 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024'
	head -1 "$ROOTS/no-libs/proc/driver/nvidia/version" | grep -q 'Open Kernel Module for x86_64  570.124.06 '
	info="$r/driver/nvidia/gpus/0000:07:00.0/information"
	grep -qxP 'Model: \t\t NVIDIA A100-SXM4-80GB' "$info"
	grep -qxP 'Device Minor: \t 2' "$info"
	grep -qxP 'Bus Location: \t 0000:07:00.0' "$info"
	grep -qxP 'GPU Excluded:\t No' "$info"
	# same key layout as the captured file
	diff <(cut -d: -f1 "$CAPTURE/proc/nvidia/gpus/0000:00:06.0/information") <(cut -d: -f1 "$info")
	cmp "$CAPTURE/proc/nvidia/gpus/0000:00:06.0/information" "$ROOTS/h100-host/proc/driver/nvidia/gpus/0000:00:06.0/information"
	cmp "$CAPTURE/proc/devices" "$ROOTS/h100-host/proc/devices"
	grep -qx '509 nvidia-uvm' "$r/devices"
	grep -qx '510 nvidia-caps' "$r/devices"
	grep -qx 'ModifyDeviceFiles: 1' "$r/driver/nvidia/params"
	grep -qx 'config 1' "$r/driver/nvidia-caps/mig-minors"
	grep -qx 'gpu0/gi1/access 12' "$r/driver/nvidia-caps/mig-minors"
	grep -qx 'gpu0/gi1/ci0/access 13' "$r/driver/nvidia-caps/mig-minors"
	grep -qx 'gpu31/gi14/ci7/access 4322' "$r/driver/nvidia-caps/mig-minors"
	grep -qx 'DeviceFileMinor: 13' "$r/driver/nvidia/capabilities/gpu0/mig/gi1/ci0/access"
	grep -qx 'DeviceFileMinor: 21' "$r/driver/nvidia/capabilities/gpu0/mig/gi2/access"
	[ ! -e "$r/driver/nvidia/capabilities/gpu0/mig/gi3" ]
	grep -qx 'DeviceFileMinor: 2' "$r/driver/nvidia/capabilities/mig/monitor"
	[ "$(cat "$r/sys/kernel/osrelease")" = 6.1.0-18-amd64 ]
	[ "$(cat "$ROOTS/h100-host/proc/sys/kernel/osrelease")" = "$(cat "$CAPTURE/uname-r.txt")" ]
	[ ! -e "$ROOTS/no-gpu/proc/driver/nvidia" ]
	! grep -q nvidia "$ROOTS/no-gpu/proc/devices"
}

@test "/sys PCI devices, driver links, modules and firmware path" {
	r="$ROOTS/debian-4gpu/sys"
	[ "$(readlink "$r/bus/pci/devices/0000:0f:00.0")" = ../../../devices/pci0000:00/0000:0f:00.0 ]
	[ "$(readlink "$r/devices/pci0000:00/0000:0f:00.0/driver")" = ../../../bus/pci/drivers/nvidia ]
	[ -d "$r/bus/pci/devices/0000:0f:00.0/driver/" ]
	[ "$(cat "$r/bus/pci/devices/0000:0f:00.0/vendor")" = 0x10de ]
	[ "$(cat "$r/bus/pci/devices/0000:0f:00.0/class")" = 0x030200 ]
	[ "$(cat "$r/bus/pci/devices/0000:03:00.0/vendor")" = 0x1a03 ]
	[ "$(basename "$(readlink "$r/bus/pci/devices/0000:03:00.0/driver")")" = ast ]
	[ -d "$r/bus/pci/devices/0000:4e:00.0/drm/card4" ]
	[ "$(cat "$r/module/nvidia/version")" = 550.54.14 ]
	[ -d "$r/module/nvidia_uvm" ] && [ -d "$r/module/nvidia_modeset" ]
	[ "$(cat "$r/module/firmware_class/parameters/path")" = "" ]
	[ -f "$ROOTS/debian-4gpu/lib/firmware/nvidia/550.54.14/gsp_ga10x.bin" ]
	h="$ROOTS/h100-host/sys"
	[ "$(readlink "$h/devices/pci0000:00/0000:00:06.0/driver")" = "$(cat "$CAPTURE/sys/0000:00:06.0/driver.link")" ]
	cmp "$CAPTURE/sys/0000:00:06.0/current_link_speed" "$h/bus/pci/devices/0000:00:06.0/current_link_speed"
	[ "$(cat "$h/module/firmware_class/parameters/path")" = /usr/local/nvidia/firmware ]
	[ -f "$ROOTS/h100-host/usr/local/nvidia/firmware/nvidia/580.159.04/gsp_ga10x.bin" ]
	[ "$(cat "$ROOTS/no-gpu/sys/bus/pci/devices/0000:00:02.0/vendor")" = 0x8086 ]
	[ ! -e "$ROOTS/no-gpu/sys/module/nvidia" ]
}

@test "usrmerge, ld.so.conf, os-release and the persistenced socket" {
	[ "$(readlink "$ROOTS/debian-4gpu/lib")" = usr/lib ]
	[ "$(readlink "$ROOTS/h100-host/lib")" = usr/lib ]
	grep -qx 'include /etc/ld.so.conf.d/\*.conf' "$ROOTS/debian-4gpu/etc/ld.so.conf"
	grep -qx '/usr/lib/i386-linux-gnu' "$ROOTS/debian-4gpu/etc/ld.so.conf.d/i386-linux-gnu.conf"
	# the capture's conf.d entries, comments dropped, order kept
	diff <(grep -v '^#' "$CAPTURE/ld.so.conf.d.txt" | grep .) <(cat "$ROOTS/h100-host/etc/ld.so.conf.d/"*.conf)
	grep -q '^ID=debian' "$ROOTS/no-gpu/etc/os-release"
	[ -S "$ROOTS/debian-4gpu/run/nvidia-persistenced/socket" ]
	[ -S "$ROOTS/debian-4gpu/var/run/nvidia-persistenced/socket" ]
}

@test "wrapper-scripts: /usr/bin/nvidia-* are shell wrappers, the ELF programs are where they exec" {
	r="$ROOTS/wrapper-scripts"
	for p in nvidia-smi nvidia-debugdump nvidia-persistenced nvidia-cuda-mps-control nvidia-cuda-mps-server; do
		[ -x "$r/usr/bin/$p" ] && [ ! -L "$r/usr/bin/$p" ]
		[ "$(head -c 2 "$r/usr/bin/$p")" = '#!' ]
		grep -qx "exec /usr/local/nvidia/bin/$p \"\$@\"" "$r/usr/bin/$p"
		grep -q '^export LD_LIBRARY_PATH=.*/usr/local/nvidia/lib:/usr/local/nvidia/lib64' "$r/usr/bin/$p"
		[ "$(head -c 4 "$r/usr/local/nvidia/bin/$p" | od -An -c | tr -d ' ')" = '177ELF' ]
	done
	grep -q 'exec -a nv-fabricmanager "/opt/nvidia-fabricmanager/bin/nv-fabricmanager"' "$r/usr/bin/nv-fabricmanager"
	[ "$(head -c 4 "$r/opt/nvidia-fabricmanager/bin/nv-fabricmanager" | od -An -c | tr -d ' ')" = '177ELF' ]
	diff <(printf '/usr/local/nvidia/lib64\n/usr/local/nvidia/lib\n') "$r/etc/ld.so.conf.d/000_nvidia.conf"
	run -0 ldconfig -p -C "$r/etc/ld.so.cache"
	[[ "$output" == *"libnvidia-ml.so.1 (libc6,x86-64) => /usr/local/nvidia/lib64/libnvidia-ml.so.1"* ]]
	[[ "$output" == *"libcuda.so.1 (libc6) => /usr/local/nvidia/lib/libcuda.so.1"* ]]
	grep -q '^ID=ubuntu' "$r/etc/os-release"
	[ "$(marker wrapper-scripts .lib_dir)" = /usr/local/nvidia/lib64 ]
}

# ------------------------------------------------------------------------------ AMD and Intel

# kfd_prop ROOT NODE KEY: one value from a KFD node's properties file
kfd_prop() { awk -v k="$3" '$1 == k { print $2 }' "$ROOTS/$1/sys/class/kfd/kfd/topology/nodes/$2/properties"; }

@test "amd-host: KFD topology has a CPU node and one node per GPU or partition, in the kernel's format" {
	r="$ROOTS/amd-host"
	n="$r/sys/class/kfd/kfd/topology/nodes"
	[ "$(readlink "$r/sys/class/kfd/kfd")" = ../../devices/virtual/kfd/kfd ]
	[ "$(ls "$n" | sort -n | tr '\n' ' ')" = "0 1 2 3 4 5 6 7 8 9 10 " ]
	# every properties line is "name value" with a decimal value, and the key order is the kernel's
	for d in "$n"/*; do
		! grep -vqE '^[a-z_0-9]+ [0-9]+$' "$d/properties"
		grep -qxE '[0-9]+' "$d/gpu_id"
		[ "$(head -1 "$d/properties")" = "cpu_cores_count $(awk '$1 == "cpu_cores_count" {print $2}' "$d/properties")" ]
		[ "$(tail -1 "$d/properties" | cut -d' ' -f1)" = max_engine_clk_ccompute ]
	done
	[ "$(kfd_prop amd-host 0 simd_count)" = 0 ] && [ "$(cat "$n/0/gpu_id")" = 0 ]
	[ "$(kfd_prop amd-host 0 io_links_count)" = 10 ] && [ -f "$n/0/io_links/9/properties" ]
	# the MI210s: gfx90a, location_id = bus << 8
	[ "$(kfd_prop amd-host 1 gfx_target_version)" = 90010 ] && [ "$(kfd_prop amd-host 1 vendor_id)" = 4098 ]
	[ "$(kfd_prop amd-host 1 device_id)" = $((0x740f)) ] && [ "$(kfd_prop amd-host 1 location_id)" = $((0x03 << 8)) ]
	[ "$(kfd_prop amd-host 2 location_id)" = $((0x43 << 8)) ] && [ "$(kfd_prop amd-host 2 drm_render_minor)" = 129 ]
	[ "$(cat "$n/1/name")" = aldebaran ] && [ "$(cat "$n/1/gpu_id")" = 63217 ]
	# the MI300X's 8 CPX partitions: same bus, partition number in the function bits, one render each
	for p in 0 1 2 3 4 5 6 7; do
		[ "$(kfd_prop amd-host $((3 + p)) gfx_target_version)" = 90402 ]
		[ "$(kfd_prop amd-host $((3 + p)) location_id)" = $(((0x83 << 8) | p)) ]
		[ "$(kfd_prop amd-host $((3 + p)) drm_render_minor)" = $((130 + p)) ]
		[ "$(kfd_prop amd-host $((3 + p)) num_xcc)" = 1 ]
		[ "$(kfd_prop amd-host $((3 + p)) unique_id)" = "$(kfd_prop amd-host 3 unique_id)" ]
	done
	[ "$(cat "$n/4/name")" = "ip discovery" ]
	# every KFD render minor is a render node under the GPU's PCI device or an amdgpu_xcp device,
	# whose PCI bus matches location_id; renderD138 (amdgpu_xcp_7) has no KFD node
	for d in "$n"/[1-9]*; do
		m=$(awk '$1 == "drm_render_minor" {print $2}' "$d/properties")
		[ "$(cat "$r/sys/class/drm/renderD$m/dev")" = "226:$m" ]
	done
	! grep -qx 'drm_render_minor 138' "$n"/*/properties
	[ "$(readlink "$r/sys/class/drm/renderD138")" = ../../devices/platform/amdgpu_xcp_7/drm/renderD138 ]
	[ "$(ls -d "$r"/sys/devices/platform/amdgpu_xcp_* | wc -l)" = 8 ]
}

@test "amd-host: amdgpu module, PCI devices behind bridges, partitions, DRM and KFD nodes" {
	r="$ROOTS/amd-host"
	s="$r/sys"
	[ "$(cat "$s/module/amdgpu/version")" = 6.7.0 ]
	[ "$(readlink "$s/module/amdgpu/drivers/pci:amdgpu")" = ../../../bus/pci/drivers/amdgpu ]
	[ "$(ls "$s/module/amdgpu/drivers/pci:amdgpu/" | grep -c '^0000:')" = 3 ]
	gpu=/sys/devices/pci0000:00/0000:00:01.1/0000:01:00.0/0000:02:00.0/0000:03:00.0
	[ "$(readlink "$s/bus/pci/devices/0000:03:00.0")" = "../../../devices/pci0000:00/0000:00:01.1/0000:01:00.0/0000:02:00.0/0000:03:00.0" ]
	[ "$(readlink -f "$s/bus/pci/devices/0000:03:00.0")" = "$r$gpu" ]
	[ "$(readlink -f "$r$gpu/driver")" = "$s/bus/pci/drivers/amdgpu" ]
	[ "$(readlink -f "$s/bus/pci/drivers/amdgpu/0000:43:00.0")" = "$s/devices/pci0000:40/0000:40:01.1/0000:41:00.0/0000:42:00.0/0000:43:00.0" ]
	[ "$(cat "$r$gpu/vendor") $(cat "$r$gpu/device") $(cat "$r$gpu/class")" = "0x1002 0x740f 0x038000" ]
	[ "$(cat "$s/class/drm/card1/device/device")" = 0x740f ]
	[ "$(readlink "$s/class/drm/card1/device")" = ../../../0000:03:00.0 ]
	# MI300X partition mode on the PCI device
	m="$s/bus/pci/devices/0000:83:00.0"
	[ "$(cat "$m/current_compute_partition")" = CPX ] && [ "$(cat "$m/current_memory_partition")" = NPS1 ]
	[ "$(cat "$m/available_compute_partition")" = "SPX, DPX, QPX, CPX" ]
	[ -d "$m/drm/card3" ] && [ -d "$m/drm/renderD130" ]
	[ "$(cat "$s/devices/platform/amdgpu_xcp_0/drm/renderD131/dev")" = 226:131 ]
	# ast (BMC) is card0 without a render node, so card N != renderD(128+N)
	[ -d "$s/bus/pci/devices/0000:c2:00.0/drm/card0" ] && [ ! -e "$r/dev/dri/renderD140" ]
	[ "$(ls "$s/bus/pci/devices/0000:c2:00.0/drm")" = card0 ]
	[ -d "$s/bus/pci/devices/0000:03:00.0/drm/renderD128" ]
	grep -qx '235 kfd' "$r/proc/devices" && grep -qx '226 drm' "$r/proc/devices"
	[ "$(marker amd-host .majors.kfd)" = 235 ]
	grep -qx 'render:x:109:' "$r/etc/group" && grep -qx 'video:x:44:' "$r/etc/group"
	grep -qP '^740F,\t02,\tAMD Instinct MI210$' "$r/usr/share/libdrm/amdgpu.ids"
	grep -qP '^74A1,\t00,\tAMD Instinct MI300X$' "$r/usr/share/libdrm/amdgpu.ids"
	grep -qP '^\t740f  ' "$r/usr/share/misc/pci.ids" && grep -qP '^\t56c0  ' "$r/usr/share/misc/pci.ids"
	need_nodes amd-host
	[ "$(majmin "$r/dev/kfd")" = eb:0 ] && [ "$(stat -c %a:%g "$r/dev/kfd")" = 660:109 ]
	[ "$(ls "$r/dev/dri" | grep -c '^card')" = 12 ] && [ "$(ls "$r/dev/dri" | grep -c '^renderD')" = 11 ]
	for f in "$r"/dev/dri/renderD*; do
		m=${f##*renderD}
		[ "$(majmin "$f")" = "$(printf 'e2:%x' "$m")" ] && [ "$(stat -c %a:%g "$f")" = 660:109 ]
		[ "$(cat "$s/class/drm/renderD$m/dev")" = "226:$m" ]
	done
	[ "$(stat -c %a:%g "$r/dev/dri/card3")" = 660:44 ]
	[ "$(readlink -f "$r/dev/dri/by-path/platform-amdgpu_xcp_6-render")" = "$r/dev/dri/renderD137" ]
}

@test "intel-host: i915, xe and vfio-pci GPUs, by-path links inside the root, MEI and vfio nodes" {
	r="$ROOTS/intel-host"
	s="$r/sys"
	[ -d "$s/module/i915" ] && [ -d "$s/module/xe" ] && [ ! -e "$s/module/i915/version" ]
	for bdf in 0000:00:02.0 0000:03:00.0 0000:06:00.0 0000:09:00.0; do
		[ "$(cat "$s/bus/pci/devices/$bdf/vendor")" = 0x8086 ]
	done
	[ "$(basename "$(readlink "$s/bus/pci/devices/0000:03:00.0/driver")")" = i915 ]
	[ "$(basename "$(readlink "$s/bus/pci/devices/0000:06:00.0/driver")")" = xe ]
	[ "$(basename "$(readlink "$s/bus/pci/devices/0000:09:00.0/driver")")" = vfio-pci ]
	[ "$(cat "$s/bus/pci/devices/0000:09:00.0/class")" = 0x038000 ]
	[ "$(cat "$s/bus/pci/devices/0000:06:00.0/device")" = 0xe20b ]
	# by-path links resolve inside the root to the node the GPU's sysfs drm directory names
	for bdf in 0000:00:02.0 0000:03:00.0 0000:06:00.0; do
		for kind in card render; do
			l="$r/dev/dri/by-path/pci-$bdf-$kind"
			t=$(readlink "$l")
			[[ "$t" == ../card* || "$t" == ../renderD* ]]
			[ -e "$r/dev/dri/${t#../}" ] || [ "$(marker intel-host .device_nodes)" != created ]
			[ -d "$s/bus/pci/devices/$bdf/drm/${t#../}" ]
		done
	done
	[ ! -e "$r/dev/dri/by-path/pci-0000:09:00.0-card" ] && [ ! -e "$s/bus/pci/devices/0000:09:00.0/drm" ]
	# vfio: the group link, the group's device list, the nodes
	[ "$(readlink "$s/bus/pci/devices/0000:09:00.0/iommu_group")" = ../../../../../../kernel/iommu_groups/17 ]
	[ "$(readlink -f "$s/bus/pci/devices/0000:09:00.0/iommu_group")" = "$s/kernel/iommu_groups/17" ]
	[ "$(readlink -f "$s/kernel/iommu_groups/17/devices/0000:09:00.0")" = "$(readlink -f "$s/bus/pci/devices/0000:09:00.0")" ]
	grep -qx '511 vfio' "$r/proc/devices" && grep -qx '238 mei' "$r/proc/devices"
	# MEI: the GSC child devices; mei0 belongs to the CSME, not a GPU
	[ "$(cat "$s/bus/pci/devices/0000:03:00.0/i915.mei-gscfi.768/mei/mei1/dev")" = 238:1 ]
	[ "$(cat "$s/bus/pci/devices/0000:06:00.0/xe.mei-gscfi.1536/mei/mei2/dev")" = 238:2 ]
	[ "$(cat "$s/bus/pci/devices/0000:00:16.0/mei/mei0/dev")" = 238:0 ]
	[ "$(basename "$(readlink -f "$s/class/mei/mei1/device/..")")" = 0000:03:00.0 ]
	grep -qx 'render:x:993:' "$r/etc/group"
	need_nodes intel-host
	[ "$(majmin "$r/dev/vfio/17")" = 1ff:0 ] && [ "$(majmin "$r/dev/vfio/vfio")" = a:c4 ]
	[ "$(majmin "$r/dev/mei1")" = ee:1 ] && [ "$(majmin "$r/dev/dri/renderD130")" = e2:82 ]
	[ "$(stat -c %a:%g "$r/dev/dri/renderD129")" = 660:993 ]
}

@test "wsl2-host: /dev/dxg only, no NVIDIA kernel side, WSL libraries as files, two driver stores" {
	r="$ROOTS/wsl2-host"
	[ "$(cat "$r/proc/sys/kernel/osrelease")" = 5.15.167.4-microsoft-standard-WSL2 ]
	grep -q 'microsoft-standard-WSL2' "$r/proc/version"
	[ ! -e "$r/proc/driver/nvidia" ] && [ ! -e "$r/proc/driver" ]
	! grep -qi nvidia "$r/proc/devices"
	[ -z "$(ls "$r/sys/bus/pci/devices")" ]
	grep -qxE ' *63 dxg' "$r/proc/misc" && grep -qxE ' *10 misc' "$r/proc/devices"
	[ "$(ls "$r/dev")" = dxg ]
	[ "$(marker wsl2-host .driver_version)" = null ] && [ "$(marker wsl2-host .gpus | jq length)" = 0 ]
	l="$r/usr/lib/wsl/lib"
	for f in libdxcore.so libd3d12.so libd3d12core.so libcuda.so libcuda.so.1 libcuda.so.1.1 libnvidia-ml.so.1 \
		libnvidia-encode.so.1 nvidia-smi; do
		[ -f "$l/$f" ] && [ ! -L "$l/$f" ] && [ "$(head -c 4 "$l/$f" | od -An -c | tr -d ' ')" = '177ELF' ]
		[ "$(stat -c %a "$l/$f")" = 555 ]
	done
	[ "$(soname "$l/libcuda.so")" = libcuda.so.1 ] && [ "$(soname "$l/libcuda.so.1.1")" = libcuda.so.1 ]
	[ "$(soname "$l/libnvidia-ml.so.1")" = libnvidia-ml.so.1 ]
	# exactly one driver store holds libcuda.so.1.1
	[ "$(ls "$r"/usr/lib/wsl/drivers/*/libcuda.so.1.1 | wc -l)" = 1 ]
	d="$r/usr/lib/wsl/drivers/nv_dispi.inf_amd64_9b0bbd8a6a7fd2a6"
	for f in libcuda.so.1.1 libcuda_loader.so libnvidia-ml.so.1 libnvidia-ml_loader.so libnvidia-ptxjitcompiler.so.1 \
		nvcubins.bin nvidia-smi nvwgf2umx.dll nvcuda64.dll; do
		[ -f "$d/$f" ] && [ ! -L "$d/$f" ]
	done
	[ "$(soname "$d/libcuda.so.1.1")" = libcuda.so.1 ] && [ "$(soname "$d/libnvidia-ptxjitcompiler.so.1")" = libnvidia-ptxjitcompiler.so.1 ]
	[ -d "$r/usr/lib/wsl/drivers/iigd_dch.inf_amd64_3a6bd1cc4f9e2a71" ]
	! ls "$r"/usr/lib/wsl/drivers/iigd_dch.inf_amd64_*/ | grep -q libcuda
	grep -qx /usr/lib/wsl/lib "$r/etc/ld.so.conf.d/ld.wsl.conf"
	run -0 ldconfig -p -C "$r/etc/ld.so.cache"
	[[ "$output" == *"libcuda.so.1 (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so.1"* ]]
	[[ "$output" == *"libdxcore.so (libc6,x86-64) => /usr/lib/wsl/lib/libdxcore.so"* ]]
	[[ "$output" != *"/usr/lib/wsl/drivers/"* ]]
	need_nodes wsl2-host
	[ -c "$r/dev/dxg" ] && [ "$(majmin "$r/dev/dxg")" = a:3f ] && [ "$(stat -c %a "$r/dev/dxg")" = 666 ]
}

@test "mig-h100: two MIG instances in /proc, full mig-minors, one instance cap node missing" {
	r="$ROOTS/mig-h100"
	c="$r/proc/driver/nvidia/capabilities"
	head -1 "$r/proc/driver/nvidia/version" | grep -q 'Open Kernel Module for x86_64  580.95.05 '
	grep -qxP 'Model: \t\t NVIDIA H100 80GB HBM3' "$r/proc/driver/nvidia/gpus/0000:19:00.0/information"
	diff <(printf 'DeviceFileMinor: 1\nDeviceFileMode: 256\nDeviceFileModify: 1\n') "$c/mig/config"
	diff <(printf 'DeviceFileMinor: 2\nDeviceFileMode: 292\nDeviceFileModify: 1\n') "$c/mig/monitor"
	diff <(printf 'DeviceFileMinor: 12\nDeviceFileMode: 292\nDeviceFileModify: 1\n') "$c/gpu0/mig/gi1/access"
	diff <(printf 'DeviceFileMinor: 13\nDeviceFileMode: 292\nDeviceFileModify: 1\n') "$c/gpu0/mig/gi1/ci0/access"
	diff <(printf 'DeviceFileMinor: 21\nDeviceFileMode: 292\nDeviceFileModify: 1\n') "$c/gpu0/mig/gi2/access"
	diff <(printf 'DeviceFileMinor: 22\nDeviceFileMode: 292\nDeviceFileModify: 1\n') "$c/gpu0/mig/gi2/ci0/access"
	[ "$(ls "$c/gpu0/mig")" = "$(printf 'gi1\ngi2')" ]
	m="$r/proc/driver/nvidia-caps/mig-minors"
	[ "$(wc -l <"$m")" = $((2 + 32 * 15 * 9)) ]
	grep -qx 'gpu0/gi2/ci0/access 22' "$m" && grep -qx 'gpu31/gi14/ci7/access 4322' "$m"
	grep -qx '509 nvidia-caps' "$r/proc/devices"
	[ "$(marker mig-h100 '.gpus[0].mig_devices[1].ci_cap_minor')" = 22 ]
	[ ! -e "$r/dev/nvidia-caps/nvidia-cap22" ]
	need_nodes mig-h100
	[ "$(ls "$r/dev/nvidia-caps" | sort -V | tr '\n' ' ')" = "nvidia-cap1 nvidia-cap2 nvidia-cap12 nvidia-cap13 nvidia-cap21 " ]
	[ "$(majmin "$r/dev/nvidia-caps/nvidia-cap21")" = 1fd:15 ] && [ "$(stat -c %a "$r/dev/nvidia-caps/nvidia-cap21")" = 444 ]
	[ "$(majmin "$r/dev/nvidia-caps/nvidia-cap1")" = 1fd:1 ] && [ "$(stat -c %a "$r/dev/nvidia-caps/nvidia-cap1")" = 400 ]
	LD_LIBRARY_PATH="$(libdir mig-h100)" run -0 "$r/usr/bin/nvidia-smi" -L
	[ "${#lines[@]}" -eq 3 ] && [[ "${lines[2]}" == "  MIG 3g.40gb     Device  1: (UUID: MIG-6f2a3b4c-"* ]]
}

@test "mixed-nvidia-amd: an NVIDIA GPU with its driver and an MI210 with amdgpu and KFD" {
	r="$ROOTS/mixed-nvidia-amd"
	[ "$(marker mixed-nvidia-amd .driver_version)" = 570.124.06 ] && [ "$(marker mixed-nvidia-amd '.gpus | length')" = 1 ]
	[ -f "$r/proc/driver/nvidia/gpus/0000:41:00.0/information" ]
	[ "$(readlink -f "$r/sys/bus/pci/devices/0000:41:00.0/driver")" = "$r/sys/bus/pci/drivers/nvidia" ]
	[ "$(readlink -f "$r/sys/bus/pci/devices/0000:03:00.0/driver")" = "$r/sys/bus/pci/drivers/amdgpu" ]
	[ "$(ls "$r/sys/module/amdgpu/drivers/pci:amdgpu/" | grep '^0000:')" = 0000:03:00.0 ]
	grep -qx '195 nvidia' "$r/proc/devices" && grep -qx '235 kfd' "$r/proc/devices" && grep -qx '226 drm' "$r/proc/devices"
	[ "$(ls "$r/sys/class/kfd/kfd/topology/nodes" | tr '\n' ' ')" = "0 1 " ]
	[ "$(kfd_prop mixed-nvidia-amd 1 location_id)" = 768 ] && [ "$(kfd_prop mixed-nvidia-amd 1 drm_render_minor)" = 128 ]
	# only the AMD GPU and the BMC have DRM nodes (nvidia-drm is not loaded)
	[ "$(ls "$r/sys/class/drm" | tr '\n' ' ')" = "card0 card1 renderD128 " ]
	[ ! -e "$r/sys/bus/pci/devices/0000:41:00.0/drm" ]
	LD_LIBRARY_PATH="$(libdir mixed-nvidia-amd)" run -0 "$r/usr/bin/nvidia-smi" -L
	[ "$output" = "GPU 0: NVIDIA L4 (UUID: GPU-3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d)" ]
	need_nodes mixed-nvidia-amd
	[ "$(majmin "$r/dev/kfd")" = eb:0 ] && [ "$(majmin "$r/dev/nvidia0")" = c3:0 ]
	[ "$(ls "$r/dev/dri" | tr '\n' ' ')" = "by-path card0 card1 renderD128 " ]
}

@test "new manifest keys are checked: KFD render minors, omitted nodes, PCI parents" {
	base='name = "bad"
[[pci_devices]]
bus_id = "0000:03:00.0"
vendor = 0x1002
device = 0x740f
class = 0x038000
drm_card = 1
'
	printf 'proc_devices = { "kfd" = 235 }\n%s[[kfd_nodes]]\n[[kfd_nodes]]\nbus_id = "0000:03:00.0"\ngpu_id = 1\nrender_minor = 140\nunique_id = 1\n' "$base" >"$BATS_TEST_TMPDIR/k.toml"
	run -1 "$FX" build "$BATS_TEST_TMPDIR/k.toml" "$BATS_TEST_TMPDIR/o"
	[[ "$output" == *"k.toml: kfd_nodes[1]: renderD140 is not a render node"* ]]
	printf 'omit_dev_nodes = ["/dev/dri/card7"]\n%s' "$base" >"$BATS_TEST_TMPDIR/o.toml"
	run -1 "$FX" build "$BATS_TEST_TMPDIR/o.toml" "$BATS_TEST_TMPDIR/o"
	[[ "$output" == *"omit_dev_nodes: /dev/dri/card7 is not a node"* ]]
	printf '%sparent = "0000:02:00.0"\n' "$base" >"$BATS_TEST_TMPDIR/p.toml"
	run -1 "$FX" build "$BATS_TEST_TMPDIR/p.toml" "$BATS_TEST_TMPDIR/o"
	[[ "$output" == *"parent 0000:02:00.0 is not a pci_devices entry"* ]]
	[[ "$output" != *Traceback* ]]
}

# ------------------------------------------------------------------------------- stand-ins

@test "libcuda stand-in loads by path and answers" {
	run -0 "$PROBE" cuda "$(libdir debian-4gpu)/libcuda.so.1"
	[[ "${lines[0]}" == "hello nvbind-standin libcuda 550.54.14" ]]
	[[ "$output" == *"cuDriverGetVersion 12040"* ]]
	[[ "$output" == *"cuInit 0"* ]]
	[[ "$output" == *"cuDeviceGetCount 4"* ]]
	[[ "$output" == *"device 0 0000:07:00.0 NVIDIA A100-SXM4-80GB"* ]]
	run -0 "$PROBE" cuda "$(libdir h100-host)/libcuda.so.1"
	[[ "${lines[0]}" == "hello nvbind-standin libcuda 580.159.04" ]]
	[[ "$output" == *"cuDriverGetVersion 13000"* ]]
	[[ "$output" == *"device 0 0000:00:06.0 NVIDIA H100 80GB HBM3"* ]]
	# the stale one says what it is; the mismatched one refuses like the real one
	run -0 "$PROBE" cuda "$ROOTS/debian-4gpu/usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05"
	[[ "${lines[0]}" == "hello nvbind-standin libcuda 535.104.05" ]]
	[[ "$output" == *"cuInit 803"* ]]
	run -0 "$PROBE" cuda "$(libdir mismatch)/libcuda.so.1"
	[[ "$output" == *"cuDriverGetVersion 12040"*"cuInit 803"* ]]
	# the capture's CUDA forward-compat libcuda is a stand-in of its own version
	run -0 "$PROBE" cuda "$ROOTS/h100-host/usr/local/cuda-13.0/compat/libcuda.so.1"
	[[ "${lines[0]}" == "hello nvbind-standin libcuda 580.95.05" ]]
}

@test "32-bit libcuda stand-in loads in a 32-bit process" {
	cc -m32 -O1 -o "$BATS_TEST_TMPDIR/probe32" "$BATS_TEST_DIRNAME/helpers/standin-probe.c" -ldl 2>/dev/null ||
		skip "no 32-bit toolchain (gcc-multilib)"
	run -0 "$BATS_TEST_TMPDIR/probe32" cuda "$ROOTS/debian-4gpu$(marker debian-4gpu .lib32_dir)/libcuda.so.1"
	[[ "${lines[0]}" == "hello nvbind-standin libcuda 550.54.14" ]]
	[[ "$output" == *"cuDeviceGetCount 4"* ]]
}

@test "NVML stand-in: PCI bus order, minors, pci info v3, memory, compute capability, MIG" {
	run -0 "$PROBE" nvml "$(libdir debian-4gpu)/libnvidia-ml.so.1"
	[[ "${lines[0]}" == "hello nvbind-standin libnvidia-ml 550.54.14" ]]
	[[ "$output" == *"nvmlInit_v2 0 Success"* ]]
	[[ "$output" == *"driver 550.54.14 cuda 12040"* ]]
	[[ "$output" == *"short buffer 7"* ]]
	[[ "$output" == *"count 4"* ]]
	[[ "$output" == *"gpu 0 minor=2 bus=00000000:07:00.0 legacy=0000:07:00.0 dom=0 bus#=7 dev#=0 id=0x20B210DE subsys=0x146310DE mem=85899345920 cc=8.0 mig=off"* ]]
	[[ "$output" == *"gpu 1 minor=0 bus=00000000:0F:00.0"*"mig=on uuid=GPU-9e7c2b18-3d4f-5a60-b1c2-7f8e9a0d1c23"* ]]
	[[ "$output" == *"gpu 2 minor=3 bus=00000000:47:00.0"* ]]
	[[ "$output" == *"gpu 3 minor=1 bus=00000000:4E:00.0"* ]]
	[[ "$output" == *"mig 1.0 gi=1 ci=0 uuid=MIG-1f3a5c7e-9b2d-5e4f-8a6c-0d2e4f6a8b01 name=NVIDIA A100-SXM4-80GB MIG 3g.40gb"* ]]
	[[ "$output" == *"mig 1.1 gi=2 ci=0"* ]]
	[[ "$output" == *"shutdown 0"* ]]
	# the answers agree with /proc
	while read -r bus; do
		minor=$(grep 'Device Minor' "$ROOTS/debian-4gpu/proc/driver/nvidia/gpus/$bus/information" | awk '{print $NF}')
		[[ "$output" == *"minor=$minor bus=0000$(echo "$bus" | tr a-f A-F)"* ]]
	done < <(ls "$ROOTS/debian-4gpu/proc/driver/nvidia/gpus")
	run -0 "$PROBE" nvml "$(libdir h100-host)/libnvidia-ml.so.1"
	uuid=$(awk '/GPU UUID/ {print $NF}' "$CAPTURE/proc/nvidia/gpus/0000:00:06.0/information")
	[[ "$output" == *"gpu 0 minor=0 bus=00000000:00:06.0 legacy=0000:00:06.0 dom=0 bus#=0 dev#=6 id=0x233010DE subsys=0x16C110DE mem=85520809984 cc=9.0 mig=off uuid=$uuid name=NVIDIA H100 80GB HBM3"* ]]
	run -0 "$PROBE" nvml "$(libdir mismatch)/libnvidia-ml.so.1"
	[[ "$output" == *"nvmlInit_v2 18 Driver/library version mismatch"* ]]
}

@test "nvidia-smi stand-in lists the GPUs with LD_LIBRARY_PATH at the root's lib dir" {
	r="$ROOTS/debian-4gpu"
	LD_LIBRARY_PATH="$(libdir debian-4gpu)" run -0 "$r/usr/bin/nvidia-smi" -L
	[ "${lines[0]}" = "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-4b0d1a5e-6a3c-9f2e-8d71-0c5a3e9b2f41)" ]
	[ "${lines[1]}" = "GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-9e7c2b18-3d4f-5a60-b1c2-7f8e9a0d1c23)" ]
	[ "${lines[2]}" = "  MIG 3g.40gb     Device  0: (UUID: MIG-1f3a5c7e-9b2d-5e4f-8a6c-0d2e4f6a8b01)" ]
	[ "${#lines[@]}" -eq 6 ]
	LD_LIBRARY_PATH="$(libdir debian-4gpu)" run -0 "$r/usr/bin/nvidia-smi"
	[[ "$output" == *"Driver Version: 550.54.14"*"CUDA Version: 12.4"* ]]
	[[ "$output" == *"00000000:4E:00.0"* ]]
	h="$ROOTS/h100-host"
	uuid=$(awk '/GPU UUID/ {print $NF}' "$CAPTURE/proc/nvidia/gpus/0000:00:06.0/information")
	LD_LIBRARY_PATH="$(libdir h100-host)" run -0 "$h/usr/local/nvidia/bin/nvidia-smi" -L
	[ "$output" = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: $uuid)" ]
	LD_LIBRARY_PATH="$(libdir h100-host)" run -0 "$h/usr/local/nvidia/bin/nvidia-smi"
	[[ "$output" == *"Driver Version: 580.159.04"*"CUDA Version: 13.0"*"81559MiB"* ]]
	# without the library it fails like the real one
	LD_LIBRARY_PATH= run -12 "$h/usr/local/nvidia/bin/nvidia-smi" -L
	[[ "$output" == *"couldn't find libnvidia-ml.so"* ]]
}

@test "nvidia-smi stand-in shows only the GPUs whose device nodes exist" {
	mkdir -p "$BATS_TEST_TMPDIR/c/dev"
	touch "$BATS_TEST_TMPDIR/c/dev/nvidiactl" "$BATS_TEST_TMPDIR/c/dev/nvidia3"
	NVBIND_STANDIN_DEVROOT="$BATS_TEST_TMPDIR/c" LD_LIBRARY_PATH="$(libdir debian-4gpu)" \
		run -0 "$ROOTS/debian-4gpu/usr/bin/nvidia-smi" -L
	[ "$output" = "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-c3d5e7f9-1a2b-4c6d-8e0f-a1b3c5d7e9f0)" ]
	rm "$BATS_TEST_TMPDIR/c/dev/nvidia3"
	NVBIND_STANDIN_DEVROOT="$BATS_TEST_TMPDIR/c" LD_LIBRARY_PATH="$(libdir debian-4gpu)" \
		run -6 "$ROOTS/debian-4gpu/usr/bin/nvidia-smi" -L
	[ "$output" = "No devices were found" ]
}

@test "mismatch root: nvidia-smi fails with the driver/library version mismatch" {
	[ "$(marker mismatch .driver_version)" = 560.35.03 ]
	[ "$(marker mismatch .lib_version)" = 550.54.14 ]
	LD_LIBRARY_PATH="$(libdir mismatch)" run -18 "$ROOTS/mismatch/usr/bin/nvidia-smi" -L
	[[ "$output" == "Failed to initialize NVML: Driver/library version mismatch"* ]]
}

@test "other driver binaries are real executables printing name and version" {
	run -0 "$ROOTS/debian-4gpu/usr/bin/nvidia-debugdump"
	[ "$output" = "nvidia-debugdump 550.54.14 (nvbind stand-in)" ]
	run -0 "$ROOTS/h100-host/usr/local/nvidia/bin/nvidia-cuda-mps-control"
	[ "$output" = "nvidia-cuda-mps-control 580.159.04 (nvbind stand-in)" ]
}

@test "stand-ins need nothing but libc" {
	for f in "$(libdir debian-4gpu)/libcuda.so.550.54.14" "$(libdir debian-4gpu)/libnvidia-ml.so.550.54.14" \
		"$(libdir debian-4gpu)/libnvidia-glcore.so.550.54.14" "$ROOTS/debian-4gpu/usr/bin/nvidia-smi" \
		"$ROOTS/debian-4gpu/usr/bin/nvidia-persistenced"; do
		run -0 sh -c "readelf -d '$f' | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'"
		[ "$output" = libc.so.6 ] || { echo "$f needs: $output"; false; }
	done
}

@test "nvidia-smi and libnvidia-ml run in a minimal glibc chroot" {
	[ "$(id -u)" = 0 ] || skip "chroot needs root"
	c="$BATS_TEST_TMPDIR/mini"
	mkdir -p "$c/usr/lib/x86_64-linux-gnu" "$c/usr/lib64" "$c/usr/bin" "$c/etc"
	ln -s usr/lib "$c/lib"
	ln -s usr/lib64 "$c/lib64"
	cp -L /lib64/ld-linux-x86-64.so.2 "$c/usr/lib64/"
	cp -L /lib/x86_64-linux-gnu/libc.so.6 "$c/usr/lib/x86_64-linux-gnu/"
	d="$(libdir debian-4gpu)"
	cp "$d/libnvidia-ml.so.550.54.14" "$c/usr/lib/x86_64-linux-gnu/"
	ln -s libnvidia-ml.so.550.54.14 "$c/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"
	cp "$ROOTS/debian-4gpu/usr/bin/nvidia-smi" "$c/usr/bin/"
	echo /usr/lib/x86_64-linux-gnu >"$c/etc/ld.so.conf"
	ldconfig -X -r "$c"
	run -0 chroot "$c" /usr/bin/nvidia-smi -L
	[ "${#lines[@]}" -eq 6 ]
	[[ "${lines[1]}" == "GPU 1: NVIDIA A100-SXM4-80GB"* ]]
	[[ "${lines[2]}" == "  MIG 3g.40gb"* ]]
}

# ------------------------------------------------------------------------- generic capture rules

@test "a capture in the same format but of another host builds by the same rules" {
	c="$BATS_TEST_TMPDIR/other-host"
	cp -r "$CAPTURE" "$c"
	chmod -R u+w "$c"
	# another GPU model and driver version, no nvidia-smi XML
	rm "$c/nvidia-smi-q.xml"
	sed -i 's/NVIDIA H100 80GB HBM3/NVIDIA L4/' "$c/proc/nvidia/gpus/0000:00:06.0/information"
	sed -i 's/580\.159\.04/575.57.08/g' "$c/driver-files.tsv" "$c/proc/nvidia/version" "$c/version.txt" \
		"$c/proc/nvidia/gpus/0000:00:06.0/information"
	run -0 "$FX" -q build "$c" "$BATS_TEST_TMPDIR/other-root"
	o="$BATS_TEST_TMPDIR/other-root"
	[ "$(jq -r .name "$o/.nvbind-fixture")" = other-host ]
	[ "$(jq -r .driver_version "$o/.nvbind-fixture")" = 575.57.08 ]
	[ "$(jq -r '.gpus[0].compute_capability' "$o/.nvbind-fixture")" = 8.9 ]
	[ "$(soname "$o/usr/local/nvidia/lib64/libnvidia-glcore.so.575.57.08")" = libnvidia-glcore.so.575.57.08 ]
	LD_LIBRARY_PATH="$o/usr/local/nvidia/lib64" run -0 "$o/usr/local/nvidia/bin/nvidia-smi"
	[[ "$output" == *"Driver Version: 575.57.08"*"CUDA Version: 12.9"*"NVIDIA L4"* ]]
}
