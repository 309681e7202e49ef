#!/usr/bin/env bats
# nvbind doctor: a healthy host gives exit 0 and only ok findings; each fault seeded into a copy
# of a fixture root is reported with its code, the file or device involved, its fix and the
# right exit status (0 ok/info, 4 warnings, 3 errors).

bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
	ensure_roots
	export ROOTS
	# the machine's own configuration must not change what doctor looks at
	: >"$BATS_FILE_TMPDIR/empty.toml"
	export NVBIND_CONFIG="$BATS_FILE_TMPDIR/empty.toml"
	unset NVBIND_ROOT
}

# healthy_root DIR: h100-host with a fresh CDI spec, docker and podman registered, sub-IDs and
# cgroup v2
healthy_root() {
	local r=$1
	cp -a "$ROOTS/h100-host" "$r"
	mkdir -p "$r/etc/cdi" "$r/etc/docker" "$r/etc/containers" "$r/sys/fs/cgroup"
	"$NVBIND" --root "$r" cdi generate --output "$r/etc/cdi/nvidia.com-gpu.json" 2>/dev/null
	printf '{"log-level": "warn"}\n' >"$r/etc/docker/daemon.json"
	"$NVBIND" setup docker --config "$r/etc/docker/daemon.json" >/dev/null
	"$NVBIND" setup podman --config "$r/etc/containers/containers.conf" >/dev/null
	printf 'root:100000:65536\nalice:165536:65536\n' >"$r/etc/subuid"
	cp "$r/etc/subuid" "$r/etc/subgid"
	echo 'cpuset cpu io memory hugetlb pids rdma misc' >"$r/sys/fs/cgroup/cgroup.controllers"
}

setup() {
	R="$BATS_TEST_TMPDIR/root"
}

# doctor_json ROOT: nvbind doctor --json into $output, exit status in $status
doctor_json() {
	run "$NVBIND" --root "$1" doctor --json
}

# field CODE FIELD: FIELD of the (first) finding with CODE
field() { jq -r --arg c "$1" "[.findings[] | select(.code == \$c)][0].$2" <<<"$output"; }
# fix_command CODE: the command that CODE's fix starts with, as printed (up to "; then",
# ", then" or " (then")
fix_command() {
	local fix
	fix=$(field "$1" fix)
	fix=${fix%%; then*}
	fix=${fix%%, then*}
	printf '%s\n' "${fix%% (then*}"
}
# run_fix CODE: run CODE's fix command exactly as printed, with the nvbind under test (the fix
# must be an nvbind command); output and status in $output and $status
run_fix() {
	local cmd
	cmd=$(fix_command "$1")
	echo "fix of $1: $cmd"
	[[ "$cmd" == "nvbind "* ]]
	eval "run \"\$NVBIND\" ${cmd#nvbind }"
}
# not_ok: "severity code" of every finding that is not ok
not_ok() { jq -r '.findings[] | select(.severity != "ok") | "\(.severity) \(.code)"' <<<"$output"; }

# add_gpu ROOT BUSID MINOR UUID: a second H100 (driver /proc entry, sysfs device, node)
add_gpu() {
	local r=$1 bus=$2 minor=$3 uuid=$4
	local g="$r/proc/driver/nvidia/gpus"
	cp -a "$g/0000:00:06.0" "$g/$bus"
	sed -i -e "s/0000:00:06.0/$bus/" -e "s/^Device Minor:.*/Device Minor: \t $minor/" \
		-e "s/GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a/$uuid/" "$g/$bus/information"
	cp -a "$r/sys/devices/pci0000:00/0000:00:06.0" "$r/sys/devices/pci0000:00/$bus"
	ln -s "../../../devices/pci0000:00/$bus" "$r/sys/bus/pci/devices/$bus"
	mknod -m 666 "$r/dev/nvidia$minor" c 195 "$minor"
}

@test "healthy host: exit 0, every check ok" {
	healthy_root "$R"
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[ "$(jqo .worst)" = ok ]
	[ -z "$(not_ok)" ]
	[ "$(jqo '[.findings[].code] | join(" ")')" = \
		"driver-ok device-nodes-ok cdi-spec-ok runtime-registered podman-runtime-registered cgroup-v2 rootless-subids-ok" ]
	[[ "$(field cdi-spec-ok message)" == "$R/etc/cdi/nvidia.com-gpu.json is up to date with driver 580.159.04"* ]]
	[[ "$(field device-nodes-ok message)" == *"/dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm"* ]]
	[[ "$(field runtime-registered message)" == "$R/etc/docker/daemon.json registers the runtime nvbind"* ]]

	run "$NVBIND" --root "$R" doctor
	[ "$status" -eq 0 ]
	[[ "$output" == *"Host root: $R"* ]]
	[[ "$output" == *"CDI specs"*"ok       cdi-spec-ok: "* ]]
	[[ "$output" == *"Summary: 7 ok, 0 info, 0 warning(s), 0 error(s): all good (exit 0)"* ]]
	[[ "$output" != *"fix:"* ]]
}

@test "podman without containers.conf is info when a CDI spec exists, a warning when none does" {
	healthy_root "$R"
	rm "$R/etc/containers/containers.conf"
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[ "$(not_ok)" = "info podman-runtime-not-registered" ]
	[[ "$(field podman-runtime-not-registered message)" == "$R/etc/containers/containers.conf does not exist: podman uses the CDI spec"* ]]

	rm "$R/etc/cdi/nvidia.com-gpu.json"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning cdi-spec-missing
warning podman-runtime-not-registered" ]
	[[ "$(field cdi-spec-missing message)" == "no CDI spec of kind nvidia.com/gpu in $R/etc/cdi, $R/var/run/cdi"* ]]
	[[ "$(field cdi-spec-missing fix)" == "nvbind --root $R cdi generate; then systemctl enable --now nvbind-cdi-refresh.path"* ]]
	[ "$(field podman-runtime-not-registered fix)" = "nvbind --root $R cdi generate (then 'podman run --device nvidia.com/gpu=all'), or nvbind --root $R setup podman" ]
	# as printed, it writes the spec where doctor looks: inside the root
	run_fix cdi-spec-missing
	[ "$status" -eq 0 ]
	[ -f "$R/etc/cdi/nvidia.com-gpu.json" ]
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[ "$(not_ok)" = "info podman-runtime-not-registered" ]
}

@test "cdi.output outside the spec directories: the fix names the file generate must write" {
	healthy_root "$R"
	rm "$R/etc/cdi/nvidia.com-gpu.json"
	printf '[cdi]\noutput = "/srv/specs/gpu.json"\n' >"$BATS_TEST_TMPDIR/config.toml"
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/config.toml"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[[ "$(field cdi-spec-missing fix)" == "nvbind --root $R cdi generate --output $R/etc/cdi/nvidia.com-gpu.json; then"* ]]
	run_fix cdi-spec-missing
	[ "$status" -eq 0 ]
	[ ! -e "$R/srv/specs/gpu.json" ]
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[[ "$(field cdi-spec-ok message)" == "$R/etc/cdi/nvidia.com-gpu.json is up to date"* ]]
}

@test "stale spec: the driver changed under it" {
	healthy_root "$R"
	sed -i 's/580\.159\.04/580.200.01/' "$R/proc/driver/nvidia/version"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	[ "$(jqo .worst)" = error ]
	[ "$(field cdi-spec-stale severity)" = error ]
	msg=$(field cdi-spec-stale message)
	[[ "$msg" == "$R/etc/cdi/nvidia.com-gpu.json is stale: "* ]]
	# the driver folder's name carries the version it was made of
	[[ "$msg" == *"mount(s) are of driver 580.159.04, the running driver is 580.200.01 ($R/var/lib/nvbind/driver/580.159.04-"* ]]
	[[ "$(field cdi-spec-stale fix)" == "nvbind --root $R cdi generate; then systemctl enable --now nvbind-cdi-refresh.path nvbind-cdi-refresh.service"* ]]
	# the library check of the inventory keeps its code
	[ "$(field library-version-mismatch severity)" = error ]

	run "$NVBIND" --root "$R" doctor
	[ "$status" -eq 3 ]
	[[ "$output" == *"error    cdi-spec-stale: $R/etc/cdi/nvidia.com-gpu.json is stale"* ]]
	[[ "$output" == *"fix: nvbind --root $R cdi generate; then"* ]]
}

@test "stale spec outside the default file: the fix regenerates that very file" {
	healthy_root "$R"
	mkdir -p "$R/var/run/cdi"
	mv "$R/etc/cdi/nvidia.com-gpu.json" "$R/var/run/cdi/gpu.yaml"
	sed -i 's/580\.159\.04/580.200.01/' "$R/proc/driver/nvidia/version"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	# (the fixture's /var/run is a link to /run, followed inside the root)
	spec=$(readlink -f "$R/var/run/cdi")/gpu.yaml
	[[ "$(field cdi-spec-stale fix)" == "nvbind --root $R cdi generate --output $spec; then"* ]]
	run_fix cdi-spec-stale
	[ "$status" -eq 0 ]
	head -1 "$spec" | grep -q '^cdiVersion:'
	doctor_json "$R"
	[ "$(field cdi-spec-ok message)" = "$spec is up to date with driver 580.200.01 and the 1 GPU(s) (3 devices)" ]
}

@test "stale spec: a GPU was added, then one went away; regenerating fixes it" {
	healthy_root "$R"
	add_gpu "$R" 0000:00:07.0 1 GPU-11111111-2222-3333-4444-555555555555
	doctor_json "$R"
	[ "$status" -eq 3 ]
	[ "$(not_ok)" = "error cdi-spec-stale" ]
	msg=$(field cdi-spec-stale message)
	[[ "$msg" == *"no device for GPU 1 (GPU-11111111-2222-3333-4444-555555555555, 0000:00:07.0)"* ]]
	[[ "$msg" == *"device all lacks /dev/nvidia1 of GPU 1"* ]]

	# the fix, as printed
	run_fix cdi-spec-stale
	[ "$status" -eq 0 ]
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[[ "$(field cdi-spec-ok message)" == *"the 2 GPU(s)"* ]]

	rm -r "$R/proc/driver/nvidia/gpus/0000:00:07.0"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	msg=$(field cdi-spec-stale message)
	[[ "$msg" == *"device 1 is for GPU 1, which is gone (the host has 1 GPU(s))"* ]]
	[[ "$msg" == *"device GPU-11111111-2222-3333-4444-555555555555 is for a GPU that is gone"* ]]
}

@test "missing library: libcuda deleted" {
	healthy_root "$R"
	rm "$R/usr/local/nvidia/lib64/libcuda.so.580.159.04"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	[ "$(field library-missing severity)" = error ]
	[[ "$(field library-missing message)" == "libcuda.so.580.159.04 not found"*"containers get no CUDA" ]]
	[[ "$(field library-missing fix)" == *"version 580.159.04"*"run ldconfig, then 'nvbind --root $R cdi generate'" ]]
	# the spec's driver folder still holds it (a hard link), but it is not the host's set of files
	[[ "$(field cdi-spec-stale message)" == *"the driver folder $R/var/lib/nvbind/driver/580.159.04-"*" does not hold the driver files the host has now"* ]]
	[ "$(not_ok)" = "error library-missing
error cdi-spec-stale" ]
}

@test "missing library, spec without the driver folder: the mount that points nowhere" {
	healthy_root "$R"
	run -0 "$NVBIND" --root "$R" cdi generate --no-driver-folder
	rm "$R/usr/local/nvidia/lib64/libcuda.so.580.159.04"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	[[ "$(field cdi-spec-stale message)" == *"1 mount(s) point at files that no longer exist ($R/usr/local/nvidia/lib64/libcuda.so.580.159.04)"* ]]
}

@test "driver folder: a folder removed by hand is a missing mount; regenerating makes it again" {
	healthy_root "$R"
	folder=$(jq -r '.containerEdits.mounts[] | select(.containerPath == "/usr/lib/nvbind") | .hostPath' "$R/etc/cdi/nvidia.com-gpu.json")
	[[ "$folder" == "$R/var/lib/nvbind/driver/580.159.04-"* ]]
	rm -r "$folder"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	[[ "$(field cdi-spec-stale message)" == *"1 mount(s) point at files that no longer exist ($folder)"* ]]
	run_fix cdi-spec-stale
	[ "$status" -eq 0 ]
	[ -L "$folder/lib/libcuda.so.1" ]
	doctor_json "$R"
	[ "$status" -eq 0 ]
}

@test "no user-space libraries at all: the inventory's code, no duplicate" {
	cp -a "$ROOTS/no-libs" "$R"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	[ "$(field libraries-missing severity)" = error ]
	[ "$(field library-missing code)" = null ]
	[[ "$(field libraries-missing fix)" == *"install the NVIDIA user-space driver package"* ]]
}

@test "device node permissions: /dev/nvidia0 mode 0600 is a warning with its fix" {
	healthy_root "$R"
	chmod 0600 "$R/dev/nvidia0"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning device-node-permissions" ]
	[[ "$(field device-node-permissions message)" == "$R/dev/nvidia0 has mode 0600 (owner 0, group 0): rootless containers cannot open it"* ]]
	[[ "$(field device-node-permissions fix)" == "chmod 0666 $R/dev/nvidia0 "* ]]

	# a driver set up to create its nodes 0600: the fix is the module option
	sed -i 's/^DeviceFileMode: .*/DeviceFileMode: 384/' "$R/proc/driver/nvidia/params"
	doctor_json "$R"
	[[ "$(field device-node-permissions fix)" == *"DeviceFileMode 0600: set 'options nvidia NVreg_DeviceFileMode=0666' in /etc/modprobe.d/nvidia.conf"* ]]

	chmod 0660 "$R/dev/nvidia-uvm"
	doctor_json "$R"
	[ "$(jqo '[.findings[] | select(.code == "device-node-permissions")] | length')" = 2 ]
	[[ "$(jqo '.findings[] | select(.code == "device-node-permissions") | .fix' | tail -1)" == *'KERNEL=="nvidia-uvm*", MODE="0666"'* ]]
}

@test "device node that is not a character device is an error" {
	healthy_root "$R"
	rm "$R/dev/nvidia0"
	touch "$R/dev/nvidia0"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	[ "$(field device-node-missing severity)" = error ]
	[[ "$(field device-node-missing message)" == *"/dev/nvidia0 is not a character device"* ]]
	[[ "$(field device-node-missing fix)" == *"mknod -m 666 /dev/nvidia0 c 195 0"* ]]
	[[ "$(field cdi-spec-stale message)" == *"1 device node(s) are missing or not character devices ($R/dev/nvidia0)"* ]]
}

@test "docker: runtime not registered, NVIDIA runtime found, invalid daemon.json" {
	healthy_root "$R"
	printf '{"log-level": "warn"}\n' >"$R/etc/docker/daemon.json"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning runtime-not-registered" ]
	[[ "$(field runtime-not-registered message)" == "$R/etc/docker/daemon.json has no runtimes.nvbind"* ]]
	[ "$(field runtime-not-registered fix)" = "nvbind --root $R setup docker, then restart dockerd (systemctl restart docker)" ]
	run_fix runtime-not-registered
	[ "$status" -eq 0 ]
	[[ "$output" == *"in $R/etc/docker/daemon.json"* ]]
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[ "$(field runtime-registered severity)" = ok ]

	printf '{"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}\n' >"$R/etc/docker/daemon.json"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(field nvidia-runtime-configured severity)" = info ]
	[ "$(field nvidia-runtime-configured fix)" = "nvbind --root $R migrate docker" ]
	[[ "$(field runtime-not-registered message)" == *"'nvbind --root $R migrate docker' moves it over"* ]]
	run_fix nvidia-runtime-configured
	[ "$status" -eq 0 ]
	[ "$(jq -r .runtimes.nvbind.path "$R/etc/docker/daemon.json")" != null ]
	doctor_json "$R"
	[ "$(field runtime-registered severity)" = ok ]
	[ "$(field nvidia-runtime-configured severity)" = info ]

	printf '{"default-runtime": "nvidia", "runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}\n' >"$R/etc/docker/daemon.json"
	doctor_json "$R"
	[ "$(field nvidia-runtime-configured severity)" = warning ]
	[[ "$(field nvidia-runtime-configured message)" == *'sets default-runtime to "nvidia"'* ]]

	printf '{"runtimes": {\n  "nvbind": \n}\n' >"$R/etc/docker/daemon.json"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning docker-config-invalid" ]
	[[ "$(field docker-config-invalid message)" =~ ^"$R/etc/docker/daemon.json":[0-9]+:[0-9]+:\  ]]

	rm "$R/etc/docker/daemon.json"
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[ "$(field docker-not-configured severity)" = info ]
}

@test "docker: registered runtime whose program is gone" {
	healthy_root "$R"
	jq '.runtimes.nvbind.path = "/nonexistent/nvbind-runtime"' "$R/etc/docker/daemon.json" >"$R/d.json"
	mv "$R/d.json" "$R/etc/docker/daemon.json"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning runtime-path-missing" ]
	[[ "$(field runtime-path-missing message)" == *"runtimes.nvbind.path /nonexistent/nvbind-runtime is not an executable file" ]]
}

@test "podman: unparseable containers.conf names file:line:column" {
	healthy_root "$R"
	printf '[engine\nruntime = "runc"\n' >"$R/etc/containers/containers.conf"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning podman-config-invalid" ]
	[[ "$(field podman-config-invalid message)" =~ ^"$R/etc/containers/containers.conf:1:"[0-9]+:\  ]]
}

@test "rootless: no /etc/subuid, empty /etc/subgid" {
	healthy_root "$R"
	rm "$R/etc/subuid"
	: >"$R/etc/subgid"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning rootless-subids" ]
	[ "$(field rootless-subids message)" = "$R/etc/subuid does not exist; $R/etc/subgid has no entries: rootless podman and docker need subordinate user and group IDs" ]
	[[ "$(field rootless-subids fix)" == "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER"* ]]
}

@test "cgroup v1 (warning with systemd, info without), hybrid" {
	healthy_root "$R"
	rm "$R/sys/fs/cgroup/cgroup.controllers"
	mkdir -p "$R/sys/fs/cgroup/devices" "$R/sys/fs/cgroup/memory"
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[ "$(not_ok)" = "info cgroup-v1" ]
	[[ "$(field cgroup-v1 message)" == *"systemctl daemon-reload"* ]]
	[[ "$(field cgroup-v1 fix)" == "boot with systemd.unified_cgroup_hierarchy=1"* ]]

	mkdir -p "$R/run/systemd/system"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning cgroup-v1" ]
	[[ "$(field cgroup-v1 message)" == "$R/sys/fs/cgroup is cgroup v1 (no cgroup.controllers) and systemd runs"* ]]

	mkdir -p "$R/sys/fs/cgroup/unified"
	touch "$R/sys/fs/cgroup/unified/cgroup.controllers"
	doctor_json "$R"
	[ "$status" -eq 4 ]
	[ "$(not_ok)" = "warning cgroup-hybrid" ]
	[[ "$(field cgroup-hybrid message)" == *"crun refuses hybrid cgroups"* ]]
}

@test "invalid CDI spec: error with the validator's message" {
	healthy_root "$R"
	printf '{"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "bogus": 1, "devices": []}\n' \
		>"$R/etc/cdi/broken.json"
	doctor_json "$R"
	[ "$status" -eq 3 ]
	[ "$(not_ok)" = "error cdi-spec-invalid" ]
	[[ "$(field cdi-spec-invalid message)" == "$R/etc/cdi/broken.json: bogus: unknown field"*": engines skip this spec" ]]
	[[ "$(field cdi-spec-invalid fix)" == *"cdi validate"* ]]
}

@test "spec directories and engine files come from the configuration, inside the root" {
	healthy_root "$R"
	mkdir -p "$R/srv/cdi" "$R/srv/docker"
	mv "$R/etc/cdi/nvidia.com-gpu.json" "$R/srv/cdi/"
	mv "$R/etc/docker/daemon.json" "$R/srv/docker/daemon.json"
	cat >"$BATS_TEST_TMPDIR/config.toml" <<-EOF
		[host]
		spec_dirs = ["/srv/cdi"]
		docker_config = "/srv/docker/daemon.json"
	EOF
	run "$NVBIND" --config "$BATS_TEST_TMPDIR/config.toml" --root "$R" doctor --json
	[ "$status" -eq 0 ]
	[[ "$(field cdi-spec-ok message)" == "$R/srv/cdi/nvidia.com-gpu.json is up to date"* ]]
	[[ "$(field runtime-registered message)" == "$R/srv/docker/daemon.json registers"* ]]
	# a file that is not the default is named in the fix
	printf '{}\n' >"$R/srv/docker/daemon.json"
	run "$NVBIND" --config "$BATS_TEST_TMPDIR/config.toml" --root "$R" doctor --json
	[ "$(field runtime-not-registered fix)" = "nvbind --root $R setup docker --config $R/srv/docker/daemon.json, then restart dockerd (systemctl restart docker)" ]
	run_fix runtime-not-registered
	[ "$status" -eq 0 ]
	[ "$(jq -r .runtimes.nvbind.path "$R/srv/docker/daemon.json")" != null ]
}

@test "no GPU: info only for the driver, no device or CDI complaints" {
	cp -a "$ROOTS/no-gpu" "$R"
	printf 'root:100000:65536\n' >"$R/etc/subuid"
	cp "$R/etc/subuid" "$R/etc/subgid"
	doctor_json "$R"
	[ "$status" -eq 0 ]
	[ "$(field no-gpu severity)" = info ]
	[ "$(jqo '[.findings[] | select(.check == "devices" or .check == "cdi")] | length')" = 0 ]
}

@test "--json is valid on every fixture root and the exit status follows the worst finding" {
	local root sev
	for root in h100-host debian-4gpu no-libs no-gpu mismatch; do
		doctor_json "$ROOTS/$root"
		jq -e '(.findings | type == "array" and length > 0) and (.worst | type == "string")' \
			<<<"$output" >/dev/null
		jq -e 'all(.findings[]; (.severity | IN("ok", "info", "warning", "error")) and
			(.code | type == "string" and test("^[a-z0-9-]+$")) and
			(.message | type == "string" and length > 0) and
			(.fix == null or (.fix | type == "string")) and (.check | type == "string"))' \
			<<<"$output" >/dev/null
		sev=$(jq -r '[.findings[].severity | {"ok":0,"info":1,"warning":2,"error":3}[.]] | max |
			["ok","info","warning","error"][.]' <<<"$output")
		[ "$(jqo .worst)" = "$sev" ]
		case $sev in
		error) [ "$status" -eq 3 ] ;;
		warning) [ "$status" -eq 4 ] ;;
		*) [ "$status" -eq 0 ] ;;
		esac
	done
}

@test "usage: --help, unexpected argument, unreadable root" {
	run "$NVBIND" doctor --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage: nvbind [--root DIR] doctor [--json]"* ]]
	run "$NVBIND" doctor extra
	[ "$status" -eq 2 ]
	run "$NVBIND" doctor --bogus
	[ "$status" -eq 2 ]
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/nonexistent" doctor
	[ "$status" -eq 1 ]
}
