#!/usr/bin/env bats
# nvbind cdi generate / validate / list, without an engine.

bats_require_minimum_version 1.5.0
load helpers/common

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"

setup_file() {
	ensure_roots
	# roots built by an older builder run may lack the newest manifest
	[ -f "$ROOTS/wrapper-scripts/.nvbind-fixture" ] ||
		python3 "$FIXTURE_BUILDER" -q build wrapper-scripts "$ROOTS/wrapper-scripts"
	export ROOTS
}

gen() { # gen ROOT ARGS...
	local root=$1
	shift
	run --separate-stderr "$NVBIND" --root "$ROOTS/$root" cdi generate "$@"
}

@test "generate: default name in a directory, mode 0644, no temporary file left" {
	mkdir "$BATS_TEST_TMPDIR/cdi"
	gen h100-host --output "$BATS_TEST_TMPDIR/cdi"
	[ "$status" -eq 0 ]
	f="$BATS_TEST_TMPDIR/cdi/nvidia.com-gpu.json"
	[ "$(stat -c %a "$f")" = 644 ]
	[ "$(ls -A "$BATS_TEST_TMPDIR/cdi" | grep -v '^\.nvidia.com-gpu.json.nvbind-state$' | wc -l)" -eq 1 ]
	run "$NVBIND" cdi validate "$f"
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid (cdiVersion 0.5.0, kind nvidia.com/gpu"* ]]
}

@test "generate: the lowest cdiVersion podman 4.3.1 accepts, JSON and YAML" {
	gen h100-host --output -
	[ "$(jq -r .cdiVersion <<<"$output")" = 0.5.0 ]
	gen debian-4gpu --output "$BATS_TEST_TMPDIR/spec.yaml"
	[ "$status" -eq 0 ]
	grep -q '^cdiVersion: "\?0.5.0"\?' "$BATS_TEST_TMPDIR/spec.yaml"
	run "$NVBIND" cdi validate "$BATS_TEST_TMPDIR/spec.yaml"
	[ "$status" -eq 0 ]
	gen h100-host --format yaml --output -
	[[ "$output" == *"kind: nvidia.com/gpu"* ]]
	gen h100-host --output "$BATS_TEST_TMPDIR/spec.yml"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"engines ignore .yml"* ]]
}

@test "generate: host paths point into the root, container paths do not" {
	# (the tests up to the driver folder's are of specs that mount every file on its own)
	gen h100-host --output - --no-driver-folder
	root="$ROOTS/h100-host"
	[ "$(jq -r --arg r "$root" '[.. | objects | select(has("hostPath")) | .hostPath | select(startswith($r + "/") | not)] | length' <<<"$output")" = 0 ]
	[ "$(jq -r --arg r "$root" '[.. | objects | .containerPath? // empty | select(startswith($r))] | length' <<<"$output")" = 0 ]
	[ "$(jq -r --arg r "$root" '[.. | objects | .path? // empty | select(startswith($r))] | length' <<<"$output")" = 0 ]
	jq -e '.containerEdits.mounts[] | select(.containerPath=="/usr/local/nvidia/lib64/libcuda.so.580.159.04")' <<<"$output" >/dev/null
	jq -e '.containerEdits.mounts[] | select(.containerPath=="/usr/bin/nvidia-smi")' <<<"$output" >/dev/null
	jq -e '.containerEdits.mounts[] | select(.containerPath=="/usr/share/vulkan/icd.d/nvidia_icd.json")' <<<"$output" >/dev/null
	jq -e '.containerEdits.mounts[] | select(.containerPath=="/lib/firmware/nvidia/580.159.04/gsp_ga10x.bin")' <<<"$output" >/dev/null
	# no compat library of another version
	[ "$(jq '[.containerEdits.mounts[] | select(.hostPath | contains("580.95.05"))] | length' <<<"$output")" = 0 ]
}

@test "generate: wrapper scripts are never mounted, the ELF programs are, at /usr/bin/NAME" {
	gen wrapper-scripts --output - --no-driver-folder
	[ "$status" -eq 0 ]
	root="$ROOTS/wrapper-scripts"
	for p in nvidia-smi nvidia-debugdump nvidia-persistenced nvidia-cuda-mps-control nvidia-cuda-mps-server; do
		[ "$(jq -r --arg c "/usr/bin/$p" '[.containerEdits.mounts[] | select(.containerPath==$c) | .hostPath] | join(" ")' <<<"$output")" = \
			"$root/usr/local/nvidia/bin/$p" ]
	done
	[ "$(jq -r '.containerEdits.mounts[] | select(.containerPath=="/usr/bin/nv-fabricmanager") | .hostPath' <<<"$output")" = \
		"$root/opt/nvidia-fabricmanager/bin/nv-fabricmanager" ]
	# no mount's source is a script (nor anything under the root's /usr/bin)
	[ "$(jq --arg r "$root/usr/bin/" '[.. | objects | .hostPath? // empty | select(startswith($r))] | length' <<<"$output")" = 0 ]
	mapfile -t sources < <(jq -r '.containerEdits.mounts[].hostPath' <<<"$output")
	[ "${#sources[@]}" -gt 30 ]
	for f in "${sources[@]}"; do
		[ -d "$f" ] || [ -S "$f" ] || [ "$(head -c 2 "$f")" != '#!' ]
	done
	gen wrapper-scripts --output "$BATS_TEST_TMPDIR/ws.json"
	run "$NVBIND" cdi validate "$BATS_TEST_TMPDIR/ws.json"
	[ "$status" -eq 0 ]
}

@test "generate: hooks carry an explicit env and the links containers expect" {
	gen h100-host --output - --no-driver-folder
	[ "$(jq '[.containerEdits.hooks[] | select((.env // []) | length == 0)] | length' <<<"$output")" = 0 ]
	[ "$(jq -r '[.containerEdits.hooks[].hookName] | unique | join(",")' <<<"$output")" = createRuntime ]
	args=$(jq -r '.containerEdits.hooks[].args | join(" ")' <<<"$output")
	[ "$(jq '.containerEdits.hooks | length' <<<"$output")" = 1 ]
	[[ "$args" == "nvbind-hook libraries --stage createRuntime "*"--lib /usr/local/nvidia/lib64/libcuda.so.580.159.04::libcuda.so.1::x86-64"* ]]
	[[ "$args" == *"--link libcuda.so.1::/usr/local/nvidia/lib64/libcuda.so"* ]]
	[[ "$args" == *"--link libGLX_nvidia.so.0::/usr/local/nvidia/lib64/libGLX_indirect.so.0"* ]]
	[[ "$args" != *"ldconfig"* && "$args" != *"--folder"* ]]
	[ "$(jq -r '.containerEdits.hooks[0].path' <<<"$output")" = "$(dirname "$(readlink -f "$NVBIND")")/nvbind-hook" ]
}

@test "generate: device name strategies, MIG devices, capabilities" {
	gen debian-4gpu --output - --device-name-strategy index,uuid,type-index
	names=$(jq -r '[.devices[].name] | join(" ")' <<<"$output")
	[[ "$names" == "0 1 2 3 GPU-"*" gpu0 gpu1 gpu2 gpu3 1:0 1:1 MIG-"*" MIG-"*" mig1:0 mig1:1 all" ]]
	[ "$(jq -r '.devices[] | select(.name=="0") | [.containerEdits.deviceNodes[].path] | join(" ")' <<<"$output")" = "/dev/nvidia2 /dev/dri/renderD129 /dev/dri/card1" ]
	[ "$(jq -r '.devices[] | select(.name=="1:0") | [.containerEdits.deviceNodes[].path] | join(" ")' <<<"$output")" = "/dev/nvidia0 /dev/nvidia-caps/nvidia-cap12 /dev/nvidia-caps/nvidia-cap13" ]
	gen debian-4gpu --output - --no-driver-folder --driver-capabilities compute,utility
	[ "$(jq '[.containerEdits.mounts[] | select(.containerPath | test("GLX|EGL|i386|dri"))] | length' <<<"$output")" = 0 ]
	[ "$(jq '[.devices[].containerEdits.deviceNodes[] | select(.path | startswith("/dev/dri"))] | length' <<<"$output")" = 0 ]
	jq -e '.containerEdits.mounts[] | select(.containerPath=="/usr/bin/nvidia-smi")' <<<"$output" >/dev/null
	gen debian-4gpu --output - --no-driver-folder --driver-capabilities compute,compat32
	jq -e '.containerEdits.mounts[] | select(.containerPath=="/usr/lib/i386-linux-gnu/libcuda.so.550.54.14")' <<<"$output" >/dev/null
	gen debian-4gpu --output - --device-name-strategy serial
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown device name strategy 'serial'"* ]]
	gen debian-4gpu --output - --driver-capabilities gaming
	[ "$status" -eq 2 ]
}

# A private copy of a fixture root: the driver folder is made inside the root it is generated for.
copy_root() { # copy_root NAME -> $R
	R=$BATS_TEST_TMPDIR/root
	cp -a "$ROOTS/$1" "$R"
	rm -rf "$R/var/lib/nvbind/driver"
}

folder_of() { jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/lib/nvbind") | .hostPath' <<<"$1"; }

@test "driver folder: one mount for the driver's files, hard links to the host's, SONAME links made once" {
	copy_root wrapper-scripts
	run --separate-stderr "$NVBIND" --root "$R" cdi generate --output -
	[ "$status" -eq 0 ]
	spec=$output
	f=$(folder_of "$spec")
	[[ "$f" == "$R/var/lib/nvbind/driver/"*-* ]]
	[ "$(jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/lib/nvbind") | .options | join(",")' <<<"$spec")" = ro,nosuid,nodev,bind ]
	# every library, program, configuration and firmware file is in the folder: no other mount of them
	[ "$(jq '[.containerEdits.mounts[] | select(.containerPath | test("\\.so|^/usr/bin/|\\.json$|\\.bin$"))] | length' <<<"$spec")" = 0 ]
	lib=$(readlink -f "$R/usr/local/nvidia/lib64/libcuda.so.1")
	[ "$(stat -c %d:%i "$f/lib/${lib##*/}")" = "$(stat -c %d:%i "$lib")" ]
	[ "$(readlink "$f/lib/libcuda.so.1")" = "${lib##*/}" ]
	[ "$(readlink "$f/lib/libcuda.so")" = libcuda.so.1 ]
	# the programs are the ELF files, never the host's wrapper scripts
	for p in nvidia-smi nvidia-cuda-mps-control; do
		[ "$(head -c 4 "$f/bin/$p" | od -An -c | tr -d ' ')" = '177ELF' ]
		[ "$(stat -c %i "$f/bin/$p")" = "$(stat -c %i "$R/usr/local/nvidia/bin/$p")" ]
	done
	args=$(jq -r '.containerEdits.hooks[0].args | join(" ")' <<<"$spec")
	[[ "$args" == *"--lib /usr/lib/nvbind/lib/${lib##*/}::libcuda.so.1::x86-64"* ]]
	[[ "$args" == *"--link /usr/lib/nvbind/bin/nvidia-smi::/usr/bin/nvidia-smi"* ]]
	# the same files give the same folder and the same spec, byte for byte
	run --separate-stderr "$NVBIND" --root "$R" cdi generate --output -
	[ "$output" = "$spec" ]
	[ "$(ls "$R/var/lib/nvbind/driver" | wc -l)" = 1 ]
	# --no-driver-folder: every file a mount of its own, as NVIDIA's toolkit does
	run --separate-stderr "$NVBIND" --root "$R" cdi generate --output - --no-driver-folder
	[ -z "$(folder_of "$output")" ]
	jq -e '.containerEdits.mounts[] | select(.containerPath == "/usr/bin/nvidia-smi")' <<<"$output" >/dev/null
}

@test "driver folder: files on another file system keep their own mounts" {
	copy_root h100-host
	# the programs on a tmpfs of their own: hard links cannot reach them
	run unshare -m --propagation private sh -c '
		mkdir -p /tmp/nvb-bin && mount -t tmpfs nvb-other /tmp/nvb-bin &&
		cp -a "$1/usr/local/nvidia/bin/." /tmp/nvb-bin/ && mount --bind /tmp/nvb-bin "$1/usr/local/nvidia/bin" &&
		"$2" --root "$1" cdi generate --output - 2>/dev/null' sh "$R" "$NVBIND"
	[ "$status" -eq 0 ]
	[[ "$(folder_of "$output")" == "$R/var/lib/nvbind/driver/"* ]]
	[ "$(jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/bin/nvidia-smi") | .hostPath' <<<"$output")" = "$R/usr/local/nvidia/bin/nvidia-smi" ]
	[[ "$(jq -r '.containerEdits.hooks[0].args | join(" ")' <<<"$output")" == *"--lib /usr/lib/nvbind/lib/libcuda.so."* ]]
}

@test "driver folder: a host root on overlayfs (a driver container) gets single mounts, nothing copied up" {
	copy_root h100-host
	mkdir -p "$BATS_TEST_TMPDIR/upper" "$BATS_TEST_TMPDIR/work" "$BATS_TEST_TMPDIR/merged"
	run --separate-stderr unshare -m --propagation private sh -c '
		mount -t overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" nvb-driver-root "$2/merged" &&
		NVBIND_LOG_LEVEL=info "$3" --root "$2/merged" cdi generate --output -' sh "$R" "$BATS_TEST_TMPDIR" "$NVBIND"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$(folder_of "$output")" ]
	jq -e '.containerEdits.mounts[] | select(.containerPath == "/usr/local/nvidia/lib64/libcuda.so.580.159.04")' <<<"$output" >/dev/null
	[[ "$stderr" == *"is on overlayfs, where a hard link copies the file"* ]]
	# nothing of the driver was copied up into the overlay's upper layer
	[ -z "$(find "$BATS_TEST_TMPDIR/upper" -name 'lib*.so*')" ]
}

@test "driver folder: a user who cannot write /var/lib/nvbind gets a spec of single mounts, and no error" {
	R=$(mktemp -d /tmp/nvb-user-root.XXXXXX) # a place the user can reach (BATS' folders are 0700)
	chmod 0755 "$R"
	cp -a "$ROOTS/h100-host/." "$R/"
	rm -rf "$R/var/lib/nvbind"
	run --separate-stderr setpriv --reuid nobody --regid nogroup --clear-groups env NVBIND_LOG_LEVEL=info "$NVBIND" --root "$R" cdi generate --output -
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$(folder_of "$output")" ]
	jq -e '.containerEdits.mounts[] | select(.containerPath == "/usr/local/nvidia/lib64/libcuda.so.580.159.04")' <<<"$output" >/dev/null
	[[ "$stderr" == *"no driver folder ("*"): every driver file is a mount of its own"* ]]
	[ ! -e "$R/var/lib/nvbind/driver" ]
	rm -rf "$R"
}

@test "driver folder: a changed driver gets a new folder; the old one goes unless a process mounts it" {
	copy_root h100-host
	run -0 "$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/a.json"
	old=$(jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/lib/nvbind") | .hostPath' "$BATS_TEST_TMPDIR/a.json")
	# a library replaced as a package upgrade does (a new file renamed over the name)
	lib=$R/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04
	cp "$lib" "$lib.new" && mv "$lib.new" "$lib"
	# the old folder is mounted in another mount namespace (a running container)
	mkdir -p "$BATS_TEST_TMPDIR/mnt"
	unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && exec sleep 60' sh "$old" "$BATS_TEST_TMPDIR/mnt" &
	holder=$!
	for _ in $(seq 50); do grep -q "/driver/${old##*/} " /proc/$holder/mountinfo 2>/dev/null && break; sleep 0.1; done
	run -0 "$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/b.json"
	new=$(jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/lib/nvbind") | .hostPath' "$BATS_TEST_TMPDIR/b.json")
	[ "$new" != "$old" ]
	[ "$(stat -c %i "$new/lib/libnvidia-ml.so.580.159.04")" = "$(stat -c %i "$lib")" ]
	[ -d "$old" ] # in use: kept
	kill "$holder"
	wait "$holder" || true
	# the next change removes both unused folders
	touch -d '2020-01-01' "$R/usr/local/nvidia/lib64/libcuda.so.580.159.04"
	run -0 "$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/c.json"
	[ ! -e "$old" ] && [ ! -e "$new" ]
	[ "$(ls "$R/var/lib/nvbind/driver" | wc -l)" = 1 ]
}

@test "driver folder: a folder that lost a file, or gained a stranger, is made again" {
	copy_root h100-host
	run -0 "$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/a.json"
	f=$(jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/lib/nvbind") | .hostPath' "$BATS_TEST_TMPDIR/a.json")
	rm "$f/lib/libcuda.so.580.159.04"
	echo evil >"$f/lib/libcuda.so.580.159.04"
	run --separate-stderr "$NVBIND" --root "$R" cdi generate --output "$BATS_TEST_TMPDIR/b.json"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"lost files: made again"* ]]
	cmp "$BATS_TEST_TMPDIR/a.json" "$BATS_TEST_TMPDIR/b.json"
	[ "$(stat -c %i "$f/lib/libcuda.so.580.159.04")" = "$(stat -c %i "$R/usr/local/nvidia/lib64/libcuda.so.580.159.04")" ]
}

@test "generate: --if-changed writes only when the driver or the GPU set changed" {
	cp -a "$ROOTS/h100-host" "$BATS_TEST_TMPDIR/root"
	out="$BATS_TEST_TMPDIR/gpu.json"
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" cdi generate --if-changed --output "$out"
	[ "$status" -eq 0 ]
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" cdi generate --if-changed --output "$out"
	[ "$status" -eq 4 ]
	[[ "$output" == *"up to date"* ]]
	# a new GPU appears
	cp -a "$BATS_TEST_TMPDIR/root/proc/driver/nvidia/gpus/0000:00:06.0" "$BATS_TEST_TMPDIR/root/proc/driver/nvidia/gpus/0000:00:07.0"
	sed -i 's/GPU-d1fbf7fc/GPU-e1fbf7fc/; s/Device Minor: \t 0/Device Minor: \t 1/' "$BATS_TEST_TMPDIR/root/proc/driver/nvidia/gpus/0000:00:07.0/information"
	mknod "$BATS_TEST_TMPDIR/root/dev/nvidia1" c 195 1
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" cdi generate --if-changed --output "$out"
	[ "$status" -eq 0 ]
	[ "$(jq '[.devices[].name] | length' "$out")" = 5 ]
	# the spec was removed: regenerate even though nothing changed
	rm "$out"
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" cdi generate --if-changed --output "$out"
	[ "$status" -eq 0 ]
	[ -f "$out" ]
}

@test "generate: --if-changed repairs a damaged or edited spec (exit 0), keeps an intact one (exit 4)" {
	out="$BATS_TEST_TMPDIR/gpu.json"
	gen h100-host --if-changed --output "$out"
	[ "$status" -eq 0 ]
	cp "$out" "$BATS_TEST_TMPDIR/good.json"
	gen h100-host --if-changed --output "$out"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"up to date"* ]]
	# does not parse as a spec (the reported case), is not JSON at all, is empty
	for damage in '{}' 'not json {' ''; do
		printf '%s' "$damage" >"$out"
		gen h100-host --if-changed --output "$out"
		echo "damage [$damage]: $stderr"
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"does not parse"*"rewriting it"* ]]
		[[ "$stderr" == *"wrote $out"* ]]
		cmp "$out" "$BATS_TEST_TMPDIR/good.json"
	done
	# parses, but the validator of `cdi validate` rejects it
	jq '.devices[0].name = "-bad-"' "$BATS_TEST_TMPDIR/good.json" >"$out"
	run "$NVBIND" cdi validate "$out"
	[ "$status" -eq 1 ]
	gen h100-host --if-changed --output "$out"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"is not valid"* ]]
	cmp "$out" "$BATS_TEST_TMPDIR/good.json"
	# valid, but not what would be generated now (a device removed by hand)
	jq 'del(.devices[0])' "$BATS_TEST_TMPDIR/good.json" >"$out"
	run "$NVBIND" cdi validate "$out"
	[ "$status" -eq 0 ]
	gen h100-host --if-changed --output "$out"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"differs from the spec generated now"* ]]
	cmp "$out" "$BATS_TEST_TMPDIR/good.json"
	# repaired: up to date again, nothing written
	before=$(stat -c %Y.%i "$out")
	gen h100-host --if-changed --output "$out"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"up to date"* ]]
	[ "$(stat -c %Y.%i "$out")" = "$before" ]
	# the same for a YAML spec
	y="$BATS_TEST_TMPDIR/gpu.yaml"
	gen h100-host --if-changed --output "$y"
	[ "$status" -eq 0 ]
	gen h100-host --if-changed --output "$y"
	[ "$status" -eq 4 ]
	echo '{}' >"$y"
	gen h100-host --if-changed --output "$y"
	[ "$status" -eq 0 ]
	run "$NVBIND" cdi validate "$y"
	[ "$status" -eq 0 ]
}

@test "generate: two generators at once always leave one complete spec" {
	out="$BATS_TEST_TMPDIR/race.json"
	for i in $(seq 10); do
		"$NVBIND" --root "$ROOTS/h100-host" cdi generate --output "$out" 2>/dev/null &
		"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$out" 2>/dev/null &
		wait
		run "$NVBIND" cdi validate "$out"
		[ "$status" -eq 0 ]
	done
	[ "$(ls -A "$BATS_TEST_TMPDIR" | grep -c tmp)" -eq 0 ]
}

@test "generate: a host without GPU, a broken output directory: clear errors, no file" {
	gen no-gpu --vendor nvidia --output "$BATS_TEST_TMPDIR/x.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no NVIDIA GPU found"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/x.json" ]
	# a directory that cannot be made: a regular file stands where it would be
	: >"$BATS_TEST_TMPDIR/file"
	gen h100-host --output "$BATS_TEST_TMPDIR/file/dir/x.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cannot create the directory $BATS_TEST_TMPDIR/file/dir for $BATS_TEST_TMPDIR/file/dir/x.json"* ]]
	[[ "$stderr" == *"hint:"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/file/dir" ]
}

@test "generate: missing directories are created (0755, parents too), as on a fresh host" {
	gen h100-host --output "$BATS_TEST_TMPDIR/new/cdi/nvidia.com-gpu.json"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/new")" = 755 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/new/cdi")" = 755 ]
	run "$NVBIND" cdi validate "$BATS_TEST_TMPDIR/new/cdi/nvidia.com-gpu.json"
	[ "$status" -eq 0 ]
	# a name ending in / is a directory: created, the spec gets its default name inside
	gen h100-host --format yaml --output "$BATS_TEST_TMPDIR/other/cdi/"
	[ "$status" -eq 0 ]
	[ -f "$BATS_TEST_TMPDIR/other/cdi/nvidia.com-gpu.yaml" ]
	# the default /etc/cdi of a fresh host root: root_rule.bats
}

@test "generate: the format comes from the file name; other names and a mismatching --format are refused" {
	gen h100-host --output "$BATS_TEST_TMPDIR/a.yaml"
	[ "$status" -eq 0 ]
	head -1 "$BATS_TEST_TMPDIR/a.yaml" | grep -q '^cdiVersion:'
	gen h100-host --output "$BATS_TEST_TMPDIR/a.json"
	[ "$status" -eq 0 ]
	jq -e .cdiVersion "$BATS_TEST_TMPDIR/a.json" >/dev/null
	# the name already says it: an agreeing --format is fine
	gen h100-host --format json --output "$BATS_TEST_TMPDIR/b.json"
	[ "$status" -eq 0 ]
	# YAML in a .json file is refused, and nothing is written
	gen h100-host --format yaml --output "$BATS_TEST_TMPDIR/c.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--format yaml does not match $BATS_TEST_TMPDIR/c.json: a .json file holds JSON"* ]]
	[[ "$stderr" == *"hint: leave out --format (the name decides), or name the file .yaml"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/c.json" ]
	gen h100-host --format json --output "$BATS_TEST_TMPDIR/c.yaml"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--format json does not match $BATS_TEST_TMPDIR/c.yaml"* ]]
	# a name the engines ignore
	for name in spec.txt spec nvidia.com-gpu.json.bak; do
		gen h100-host --output "$BATS_TEST_TMPDIR/$name"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"$BATS_TEST_TMPDIR/$name: a CDI spec file must end in .json or .yaml"* ]]
		[ ! -e "$BATS_TEST_TMPDIR/$name" ]
	done
	# stdout keeps --format, JSON by default
	gen h100-host --output -
	jq -e .cdiVersion <<<"$output" >/dev/null
	gen h100-host --format yaml --output -
	[[ "$output" == "cdiVersion: "* ]]
	# cdi.format applies where the name does not say (stdout, a directory), never against it
	printf '[cdi]\nformat = "yaml"\n' >"$BATS_TEST_TMPDIR/config.toml"
	run --separate-stderr "$NVBIND" --config "$BATS_TEST_TMPDIR/config.toml" --root "$ROOTS/h100-host" cdi generate --output -
	[[ "$output" == "cdiVersion: "* ]]
	run --separate-stderr "$NVBIND" --config "$BATS_TEST_TMPDIR/config.toml" --root "$ROOTS/h100-host" cdi generate --output "$BATS_TEST_TMPDIR/d.json"
	[ "$status" -eq 0 ]
	jq -e .cdiVersion "$BATS_TEST_TMPDIR/d.json" >/dev/null
}

# write_spec NAME JSON: a spec file in the test's temp dir
write_spec() { printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/$1"; }

GOOD_DEV='{"name":"0","containerEdits":{"deviceNodes":[{"path":"/dev/nvidia0"}]}}'

@test "validate: each invalid case is rejected with a message naming file, device and field" {
	cases=(
		'env-no-eq|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{"env":["FOO"]}}]}|device "0": containerEdits.env: entry 0 "FOO" is not NAME=VALUE'
		'env-eq-first|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{"env":["=x"]}}]}|is not NAME=VALUE'
		'hookname|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":['"$GOOD_DEV"'],"containerEdits":{"hooks":[{"hookName":"preStart","path":"/bin/true"}]}}|hookName "preStart" is not one of'
		'empty-path|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{"deviceNodes":[{"path":""}]}}]}|deviceNodes[0]: path is empty'
		'empty-mount|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{"mounts":[{"hostPath":"","containerPath":"/x"}]}}]}|mounts[0]: hostPath is empty'
		'empty-edits|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{}}]}|device "0": containerEdits: the device has no edits'
		'duplicate|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":['"$GOOD_DEV,$GOOD_DEV"']}|duplicate device name'
		'unknown-field|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{"deviceNodes":[{"path":"/dev/x","hostpath":"/dev/x"}]}}]}|device "0": containerEdits.deviceNodes[0].hostpath: unknown field'
		'unknown-top|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":['"$GOOD_DEV"'],"extra":1}|extra: unknown field'
		'version-low|{"cdiVersion":"0.4.0","kind":"nvidia.com/gpu","devices":['"$GOOD_DEV"']}|: cdiVersion: "0.4.0" is too old for what the spec uses: it needs at least "0.5.0"'
		'bad-kind|{"cdiVersion":"0.5.0","kind":"n/gpu","devices":['"$GOOD_DEV"']}|: kind: "n/gpu" is not vendor/class'
		'bad-name|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"-x","containerEdits":{"env":["A=1"]}}]}|"-x" is not a valid device name'
		'type|{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{"deviceNodes":[{"path":"/dev/x","major":"195"}]}}]}|major: must be an integer'
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r name spec expect <<<"$c"
		write_spec "$name.json" "$spec"
		run "$NVBIND" cdi validate "$BATS_TEST_TMPDIR/$name.json"
		echo "$name: $output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"$BATS_TEST_TMPDIR/$name.json"* ]]
		[[ "$output" == *"$expect"* ]]
	done
}

@test "validate and list: the spec directories, priority and conflicts" {
	write_spec a.json '{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":['"$GOOD_DEV"',{"name":"x","containerEdits":{"env":["A=1"]}}]}'
	write_spec b.json '{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[{"name":"x","containerEdits":{"env":["A=2"]}}]}'
	mkdir -p "$BATS_TEST_TMPDIR/etc" "$BATS_TEST_TMPDIR/run"
	cp "$BATS_TEST_TMPDIR/a.json" "$BATS_TEST_TMPDIR/b.json" "$BATS_TEST_TMPDIR/etc/"
	write_spec run/c.yaml "$(printf 'cdiVersion: "0.5.0"\nkind: nvidia.com/gpu\ndevices:\n- name: "0"\n  containerEdits:\n    env: ["B=1"]\n')"
	run --separate-stderr "$NVBIND" cdi list --json --spec-dir "$BATS_TEST_TMPDIR/etc" --spec-dir "$BATS_TEST_TMPDIR/run"
	echo "$output"
	[ "$status" -eq 0 ]
	# x is defined twice in etc/: a conflict, dropped; 0 comes from run/ (the later directory wins)
	[ "$(jq -r '[.devices[].name] | join(" ")' <<<"$output")" = "nvidia.com/gpu=0" ]
	[ "$(jq -r '.devices[0].spec' <<<"$output")" = "$BATS_TEST_TMPDIR/run/c.yaml" ]
	jq -r '.errors[0]' <<<"$output" | grep -q 'nvidia.com/gpu=x is also defined'
	# default directories, through a private mount namespace
	run "$WITH_SPECS" "$BATS_TEST_TMPDIR/a.json" -- "$NVBIND" cdi list
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'nvidia.com/gpu=0\nnvidia.com/gpu=x')" ]
	run "$WITH_SPECS" "$BATS_TEST_TMPDIR/a.json" -- "$NVBIND" cdi validate
	[ "$status" -eq 0 ]
	write_spec bad.json '{"cdiVersion":"0.5.0","kind":"nvidia.com/gpu","devices":[]}'
	run "$WITH_SPECS" "$BATS_TEST_TMPDIR/a.json" "$BATS_TEST_TMPDIR/bad.json" -- "$NVBIND" cdi validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"/etc/cdi/bad.json: devices: the spec defines no device"* ]]
}

# New-user item 9: every problem of a file the reader rejects, one line each, not the first only.
@test "validate: every reader problem of a file, one line each" {
	cat >"$BATS_TEST_TMPDIR/bad.json" <<'JSON'
{"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "bogus": 1,
 "containerEdits": {"env": "notalist", "mounts": [{"hostPath": 3, "containerPath": "/x", "extra": true}]},
 "devices": [{"name": "0", "colour": "red", "containerEdits": {"deviceNodes": [{"path": 5}]}}]}
JSON
	run "$NVBIND" cdi validate "$BATS_TEST_TMPDIR/bad.json"
	[ "$status" -eq 1 ]
	[ "$(grep -c '^nvbind: error: ' <<<"$output")" -eq 6 ]
	for field in 'bogus: unknown field' 'containerEdits.env: must be a list' 'mounts\[0\].extra: unknown field' \
		'mounts\[0\].hostPath: must be a string' 'device "0".colour: unknown field' 'deviceNodes\[0\].path: must be a string'; do
		grep -q "$field" <<<"$output"
	done
}
