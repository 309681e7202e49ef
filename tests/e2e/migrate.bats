#!/usr/bin/env bats
# nvbind migrate: daemon.json and the toolkit's config.toml on temporary files (report, backup,
# --dry-run, refusal of unparseable files), docker command lines translated, and the
# translations checked against the real nvbind (cdi generate, run --dry-run) and a real podman.

bats_require_minimum_version 1.5.0
load helpers/common

RT=/usr/local/bin/nvbind-runtime
WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"

setup_file() {
	ensure_roots
	export ROOTS
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$BATS_FILE_TMPDIR/debian-4gpu.json" 2>/dev/null
}

setup() {
	D="$BATS_TEST_TMPDIR/daemon.json"
	TK="$BATS_TEST_TMPDIR/config.toml"
	NO_TK="$BATS_TEST_TMPDIR/absent.toml"
}

# migrate_docker ARGS...: nvbind migrate docker on the test's daemon.json
migrate_docker() {
	run "$NVBIND" migrate docker --config "$D" --runtime-path "$RT" "$@"
}

# the backups of the test's daemon.json, oldest first
backups() { ls -1d "$D".nvbind-backup-* 2>/dev/null | LC_ALL=C sort || true; }

nvidia_daemon_json() {
	cat >"$D" <<'EOF'
{
    "default-runtime": "nvidia",
    "exec-opts": ["native.cgroupdriver=systemd"],
    "log-level": "warn",
    "runtimes": {
        "nvidia": {
            "path": "/usr/bin/nvidia-container-runtime",
            "runtimeArgs": []
        }
    }
}
EOF
}

# ---- nvbind migrate docker ----

@test "migrate docker: runtimes.nvidia and default-runtime nvidia are reported; nvbind is registered beside them, with a backup" {
	nvidia_daemon_json
	cp "$D" "$BATS_TEST_TMPDIR/orig.json"
	migrate_docker --toolkit-config "$NO_TK"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'runtimes.nvidia.path = "/usr/bin/nvidia-container-runtime"'* ]]
	[[ "$output" == *'default-runtime = "nvidia"'* ]]
	[[ "$output" == *'exec-opts = ["native.cgroupdriver=systemd"]'* ]]
	[[ "$output" == *"$NO_TK: not present"* ]]
	[[ "$output" == *"registered $RT as runtime \"nvbind\" in $D; backup: $D.nvbind-backup-"* ]]
	# the default is left alone, with the command that changes it
	[[ "$output" == *'default-runtime is "nvidia" and stays so'* ]]
	[[ "$output" == *"nvbind setup docker --default --config $D --runtime-path $RT"* ]]
	[ "$(jq -r '.runtimes.nvbind.path' "$D")" = "$RT" ]
	[ "$(jq -r '.runtimes.nvidia.path' "$D")" = /usr/bin/nvidia-container-runtime ]
	[ "$(jq -c '.runtimes.nvidia.runtimeArgs' "$D")" = '[]' ]
	[ "$(jq -r '."default-runtime"' "$D")" = nvidia ]
	[ "$(jq -r '."log-level"' "$D")" = warn ]
	[ "$(jq -c '."exec-opts"' "$D")" = '["native.cgroupdriver=systemd"]' ]
	# the backup is the file as it was
	[ "$(backups | wc -l)" -eq 1 ]
	cmp "$(backups)" "$BATS_TEST_TMPDIR/orig.json"

	# a second run changes nothing and makes no second backup
	cp "$D" "$BATS_TEST_TMPDIR/after.json"
	migrate_docker --toolkit-config "$NO_TK"
	[ "$status" -eq 0 ]
	[[ "$output" == *"already registers $RT as \"nvbind\": nothing to change"* ]]
	cmp "$D" "$BATS_TEST_TMPDIR/after.json"
	[ "$(backups | wc -l)" -eq 1 ]

	# the suggested command does what it says; the old backup survives the new one
	run "$NVBIND" setup docker --default --config "$D" --runtime-path "$RT"
	[ "$status" -eq 0 ]
	[ "$(jq -r '."default-runtime"' "$D")" = nvbind ]
	[ "$(jq -r '.runtimes.nvidia.path' "$D")" = /usr/bin/nvidia-container-runtime ]
	[ "$(backups | wc -l)" -eq 2 ]
	cmp "$(backups | head -1)" "$BATS_TEST_TMPDIR/orig.json"
}

@test "migrate docker: a daemon.json without the toolkit, and none at all" {
	printf '{"log-level": "warn", "runtimes": {"crun": {"path": "/usr/bin/crun"}}}\n' >"$D"
	migrate_docker --toolkit-config "$NO_TK"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$D: no NVIDIA Container Toolkit runtime registered"* ]]
	[[ "$output" != *"stays so"* ]]
	[ "$(jq -r '.runtimes.nvbind.path' "$D")" = "$RT" ]
	[ "$(jq -r '.runtimes.crun.path' "$D")" = /usr/bin/crun ]
	[ "$(jq -r '."default-runtime"' "$D")" = null ]
	[ "$(backups | wc -l)" -eq 1 ]

	D="$BATS_TEST_TMPDIR/new/daemon.json"
	migrate_docker --toolkit-config "$NO_TK"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$D: does not exist (it will be created)"* ]]
	[ "$(jq -r '.runtimes.nvbind.path' "$D")" = "$RT" ]
	[ -z "$(backups)" ]
}

@test "migrate docker: an unparseable daemon.json is refused with file:line:col; nothing written" {
	printf '{\n  "runtimes": {\n    "nvidia": {"path": "nvidia-container-runtime"}\n  ,\n}\n' >"$D"
	cp "$D" "$BATS_TEST_TMPDIR/before.json"
	migrate_docker --toolkit-config "$NO_TK"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" =~ "nvbind: error: $D":[0-9]+:[0-9]+:\  ]]
	[[ "$output" == *"nothing written"* ]]
	cmp "$D" "$BATS_TEST_TMPDIR/before.json"
	[ -z "$(backups)" ]

	printf '[1, 2]\n' >"$D"
	migrate_docker --toolkit-config "$NO_TK"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the document is not a JSON object"* ]]
	[ "$(cat "$D")" = "[1, 2]" ]
}

@test "migrate docker: an unparseable config.toml is refused with file:line:col; daemon.json untouched" {
	nvidia_daemon_json
	cp "$D" "$BATS_TEST_TMPDIR/before.json"
	printf 'disable-require = false\n[nvidia-container-cli\nldconfig = "@/sbin/ldconfig"\n' >"$TK"
	migrate_docker --toolkit-config "$TK"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"nvbind: error: $TK:2:"* ]]
	cmp "$D" "$BATS_TEST_TMPDIR/before.json"
	[ -z "$(backups)" ]
}

@test "migrate docker --dry-run: the diff, and nothing written" {
	nvidia_daemon_json
	cp "$D" "$BATS_TEST_TMPDIR/before.json"
	migrate_docker --toolkit-config "$NO_TK" --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"--- $D"* ]]
	[[ "$output" == *"+++ $D (after nvbind migrate docker)"* ]]
	[[ "$output" == *'+        "nvbind": {'* ]]
	[[ "$output" == *"+            \"path\": \"$RT\""* ]]
	[[ "$output" == *"(dry run: nothing written)"* ]]
	[[ "$output" != *'-    "default-runtime"'* ]]
	cmp "$D" "$BATS_TEST_TMPDIR/before.json"
	[ -z "$(backups)" ]
	# the global --config of nvbind is its own file, not daemon.json: host.docker_config is the default
	printf '[host]\ndocker_config = "%s"\n' "$D" >"$BATS_TEST_TMPDIR/nvbind.toml"
	run "$NVBIND" --config "$BATS_TEST_TMPDIR/nvbind.toml" migrate docker --toolkit-config "$NO_TK" --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"+++ $D (after nvbind migrate docker)"* ]]
	cmp "$D" "$BATS_TEST_TMPDIR/before.json"
}

@test "migrate docker: the toolkit's config.toml settings mapped to nvbind keys; the suggested configuration is valid" {
	nvidia_daemon_json
	cat >"$TK" <<'EOF'
accept-nvidia-visible-devices-envvar-when-unprivileged = false
disable-require = false
supported-driver-capabilities = "compat32,compute,display,graphics,ngx,utility,video"
swarm-resource = "DOCKER_RESOURCE_GPU"

[nvidia-container-cli]
environment = []
ldconfig = "@/sbin/ldconfig"
load-kmods = true

[nvidia-container-runtime]
log-level = "debug"
mode = "auto"
runtimes = ["docker-runc", "runc", "crun"]

[nvidia-container-runtime.modes.cdi]
annotation-prefixes = ["cdi.k8s.io/"]
default-kind = "nvidia.com/gpu"
spec-dirs = ["/etc/cdi", "/var/run/cdi", "/opt/cdi"]
EOF
	migrate_docker --toolkit-config "$TK" --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$TK:"* ]]
	[[ "$output" == *"accept-nvidia-visible-devices-envvar-when-unprivileged = false  (line 1)"$'\n'"      -> security.env_requests_unprivileged = false"* ]]
	[[ "$output" == *'swarm-resource = "DOCKER_RESOURCE_GPU"  (line 4)'$'\n''      -> no equivalent'* ]]
	[[ "$output" == *'nvidia-container-cli.ldconfig = "@/sbin/ldconfig"  (line 8)'$'\n'"      -> no setting: nvbind runs no ldconfig at all"* ]]
	[[ "$output" == *'-> runtime.log_level = "debug"'* ]]
	[[ "$output" == *'-> cdi.kind = "nvidia.com/gpu"  (nvbind'"'"'s default already)'* ]]
	# the fragment to carry over holds what differs from nvbind's defaults, and nvbind accepts it
	sed -n '/^Settings to carry over/,/^Next:/p' <<<"$output" | sed '1d;$d' >"$BATS_TEST_TMPDIR/carry.toml"
	cat "$BATS_TEST_TMPDIR/carry.toml"
	grep -qx 'env_requests_unprivileged = false  # accept-nvidia-visible-devices-envvar-when-unprivileged' "$BATS_TEST_TMPDIR/carry.toml"
	grep -q '^spec_dirs = \["/etc/cdi", "/var/run/cdi", "/opt/cdi"\]' "$BATS_TEST_TMPDIR/carry.toml"
	grep -q '^log_level = "debug"' "$BATS_TEST_TMPDIR/carry.toml"
	! grep -q '^kind' "$BATS_TEST_TMPDIR/carry.toml"
	run "$NVBIND" config validate "$BATS_TEST_TMPDIR/carry.toml"
	echo "$output"
	[ "$status" -eq 0 ]
	run "$NVBIND" --config "$BATS_TEST_TMPDIR/carry.toml" config show
	[[ "$output" == *"env_requests_unprivileged = false"* ]]
}

@test "migrate docker: an nvidia-ctk spec beside nvbind's is reported" {
	nvidia_daemon_json
	mkdir -p "$BATS_TEST_TMPDIR/cdi"
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$BATS_TEST_TMPDIR/cdi" 2>/dev/null
	cat >"$BATS_TEST_TMPDIR/cdi/nvidia.yaml" <<'EOF'
cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
- name: "0"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
containerEdits:
  hooks:
  - hookName: createContainer
    path: /usr/bin/nvidia-cdi-hook
    args:
    - nvidia-cdi-hook
    - update-ldcache
    - --folder
    - /usr/lib/x86_64-linux-gnu
EOF
	printf '[host]\nspec_dirs = ["%s"]\n' "$BATS_TEST_TMPDIR/cdi" >"$BATS_TEST_TMPDIR/nvbind.toml"
	run "$NVBIND" --config "$BATS_TEST_TMPDIR/nvbind.toml" migrate docker --config "$D" --toolkit-config "$NO_TK" --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"CDI specs of kind nvidia.com/gpu that nvbind did not write:"$'\n'"  $BATS_TEST_TMPDIR/cdi/nvidia.yaml (written by nvidia-ctk)"$'\n'"Move them away"* ]]
	[[ "$output" != *"nvidia.com-gpu.json"* ]]
	# nvbind cdi list sees the conflict too
	run "$NVBIND" cdi list --spec-dir "$BATS_TEST_TMPDIR/cdi"
	echo "$output"
	[[ "$output" == *"both are ignored"* ]]
	rm "$BATS_TEST_TMPDIR/cdi/nvidia.yaml"
	run "$NVBIND" --config "$BATS_TEST_TMPDIR/nvbind.toml" migrate docker --config "$D" --toolkit-config "$NO_TK" --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" != *"did not write"* ]]
}

@test "migrate: usage errors exit 2" {
	run "$NVBIND" migrate
	[ "$status" -eq 2 ]
	run "$NVBIND" migrate sideways
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown subcommand 'sideways'"* ]]
	run "$NVBIND" migrate docker --config "$D" extra
	[ "$status" -eq 2 ]
	run "$NVBIND" migrate docker --config "$D" --runtime-path relative/nvbind-runtime
	[ "$status" -eq 2 ]
	run "$NVBIND" migrate docker --bogus
	[ "$status" -eq 2 ]
	run "$NVBIND" migrate command --to kubernetes -- docker run --gpus all img
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown --to 'kubernetes'"* ]]
	run "$NVBIND" migrate command
	[ "$status" -eq 2 ]
	run "$NVBIND" migrate --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"nvbind migrate command [--to TARGET] -- docker run"* ]]
}

# ---- nvbind migrate command ----

@test "migrate command: every target, labelled; --to prints one line; warnings on stderr" {
	run --separate-stderr "$NVBIND" migrate command -- docker run --rm -it --gpus '"device=0,2"' \
		-v /data:/data --name 'my job' img python -c 'print("hi")'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	[ "${lines[0]}" = "# docker with the nvbind runtime (register it: nvbind setup docker)" ]
	[ "${lines[1]}" = "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0,2 --rm -it -v /data:/data --name 'my job' img python -c 'print(\"hi\")'" ]
	[ "${lines[3]}" = "podman run --device nvidia.com/gpu=0 --device nvidia.com/gpu=2 --rm -it -v /data:/data --name 'my job' img python -c 'print(\"hi\")'" ]
	[ "${lines[5]}" = "docker run --device nvidia.com/gpu=0 --device nvidia.com/gpu=2 --rm -it -v /data:/data --name 'my job' img python -c 'print(\"hi\")'" ]
	[ "${lines[7]}" = "nvbind run --runtime docker --gpu 0,2 img python -c 'print(\"hi\")'" ]
	[[ "$stderr" == *"nvbind: warning: nvbind run: has no option for --rm -it -v /data:/data --name 'my job'"* ]]

	for to in nvbind podman docker-cdi nvbind-run; do
		run --separate-stderr "$NVBIND" migrate command --to "$to" -- docker run --gpus 2 img nvidia-smi
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -eq 1 ]
		case $to in
		nvbind) [ "$output" = "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0,1 img nvidia-smi" ] ;;
		podman) [ "$output" = "podman run --device nvidia.com/gpu=0 --device nvidia.com/gpu=1 img nvidia-smi" ] ;;
		docker-cdi) [ "$output" = "docker run --device nvidia.com/gpu=0 --device nvidia.com/gpu=1 img nvidia-smi" ] ;;
		nvbind-run) [ "$output" = "nvbind run --runtime docker --gpu 0,1 img nvidia-smi" ] ;;
		esac
	done
}

@test "migrate command: --runtime nvidia with the environment, one quoted string, options after the image" {
	run --separate-stderr "$NVBIND" migrate command --to nvbind -- docker run --runtime=nvidia \
		-e NVIDIA_VISIBLE_DEVICES=GPU-4b0d1a5e-6a3c-9f2e-8d71-0c5a3e9b2f41 -e NVIDIA_DRIVER_CAPABILITIES=compute,utility img
	[ "$status" -eq 0 ]
	[ "$output" = "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=GPU-4b0d1a5e-6a3c-9f2e-8d71-0c5a3e9b2f41 -e NVIDIA_DRIVER_CAPABILITIES=compute,utility img" ]

	# as pasted from a README: one argument, with continuations
	run --separate-stderr "$NVBIND" migrate command --to podman -- "docker run --rm \\
	    --gpus 'capabilities=compute,utility' \\
	    -e 'MSG=a b' img sh -c 'echo \$MSG'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "podman run --device nvidia.com/gpu=0 --rm -e 'MSG=a b' img sh -c 'echo \$MSG'" ]
	[[ "$stderr" == *"quote it as --gpus '\"capabilities=compute,utility\"'"* ]]

	run --separate-stderr "$NVBIND" migrate command --to podman -- docker run img --gpus all
	[ "$status" -eq 0 ]
	[ "$output" = "podman run img --gpus all" ]
	[[ "$stderr" == *"asks for no GPU"* ]]

	run --separate-stderr "$NVBIND" migrate command --to nvbind -- docker run --frobnicate=1 --gpus all img
	[ "$status" -eq 0 ]
	[ "$output" = "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all --frobnicate=1 img" ]
	[[ "$stderr" == *"unknown docker run option --frobnicate=1: kept as it is"* ]]
}

@test "migrate command: what is not docker run is an error" {
	run "$NVBIND" migrate command -- docker ps -a
	[ "$status" -eq 2 ]
	[[ "$output" == *"'docker ps' is not docker run"* ]]
	run "$NVBIND" migrate command -- podman run --gpus all img
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not a docker command"* ]]
	run "$NVBIND" migrate command -- docker run --gpus all
	[ "$status" -eq 2 ]
	[[ "$output" == *"names no image"* ]]
	run "$NVBIND" migrate command -- docker run --gpus foo=1 img
	[ "$status" -eq 2 ]
	[[ "$output" == *"unexpected key 'foo'"* ]]
	run "$NVBIND" migrate command -- "docker run --gpus 'all img"
	[ "$status" -eq 2 ]
	[[ "$output" == *"unterminated"* ]]
}

# ---- the translations against the real nvbind and podman ----

# devices_of LINE: the values of --device in a translated command line, one a line
devices_of() {
	eval "set -- $1"
	while [ $# -gt 0 ]; do
		[ "$1" = --device ] && { echo "$2"; shift; }
		shift
	done
}

@test "translation end to end: every CDI device named for podman exists in nvbind's spec of the host" {
	names=$("$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output - | jq -r '.kind + "=" + .devices[].name')
	echo "$names"
	for gpus in all 1 4 '"device=0,2"' '"device=3,1"' 'device=GPU-4b0d1a5e-6a3c-9f2e-8d71-0c5a3e9b2f41' '"device=1:0,1:1"'; do
		run --separate-stderr "$NVBIND" migrate command --to podman -- docker run --gpus "$gpus" img
		[ "$status" -eq 0 ]
		devs=$(devices_of "$output")
		echo "--gpus $gpus -> $devs"
		[ -n "$devs" ]
		while read -r d; do
			grep -qxF "$d" <<<"$names" || { echo "$d is not in the spec"; false; }
		done <<<"$devs"
	done
	run --separate-stderr "$NVBIND" migrate command --to docker-cdi -- docker run --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=2,3 img
	[ "$(devices_of "$output" | tr '\n' ' ')" = "nvidia.com/gpu=2 nvidia.com/gpu=3 " ]
	grep -qxF nvidia.com/gpu=3 <<<"$names"
}

@test "translation end to end: the nvbind run translation is accepted by nvbind run and names the same devices" {
	for gpus in all 2 '"device=0,2"' '"device=1","capabilities=compute,utility"'; do
		run --separate-stderr "$NVBIND" migrate command --to podman -- docker run --gpus "$gpus" -e A=1 img true
		want=$(devices_of "$output")
		run --separate-stderr "$NVBIND" migrate command --to nvbind-run -- docker run --gpus "$gpus" -e A=1 img true
		[ "$status" -eq 0 ]
		eval "set -- $output"
		[ "$1 $2 $3 $4" = "nvbind run --runtime docker" ]
		shift 4
		# the same command line, for podman (docker would ask a daemon for its version), printed
		run --separate-stderr "$NVBIND" run --runtime podman --dry-run "$@"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$(devices_of "$output")" = "$want" ]
		[[ "$output" == *" -e A=1 img true" ]]
	done
}

@test "translation end to end: the translated podman command runs in podman and gets exactly the requested GPUs" {
	need_engine podman
	load helpers/image
	load helpers/podman
	podman_setup
	make_rootfs "$BATS_TEST_TMPDIR/rootfs"
	rootfs_tar "$BATS_TEST_TMPDIR/rootfs" "$BATS_TEST_TMPDIR/image.tar"
	pm import "$BATS_TEST_TMPDIR/image.tar" localhost/nvbind-e2e:migrate >/dev/null
	spec="$BATS_FILE_TMPDIR/debian-4gpu.json"
	nodes='for n in /dev/nvidia[0-9]*; do [ -e "$n" ] && echo "$n"; done'
	for gpus in '"device=0,2"' 1; do
		run --separate-stderr "$NVBIND" migrate command --to podman -- docker run --rm --network none \
			--gpus "$gpus" localhost/nvbind-e2e:migrate /bin/sh -c "$nodes"
		[ "$status" -eq 0 ]
		echo "$output"
		eval "set -- $output"
		[ "$1 $2" = "podman run" ]
		shift
		# the GPU nodes the spec gives the requested devices
		want=$(for d in $(devices_of "$output"); do
			jq -r --arg n "${d#nvidia.com/gpu=}" '.devices[] | select(.name == $n) | .containerEdits.deviceNodes[].path' "$spec"
		done | grep '^/dev/nvidia[0-9]' | sort -u)
		run "$WITH_SPECS" "$spec" -- podman --root "$PODMAN_DIR/storage" --runroot "$PODMAN_DIR/run" \
			--storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"
		echo "$output"
		[ "$status" -eq 0 ]
		[ -n "$want" ]
		[ "$(sort <<<"$output")" = "$want" ]
	done
	podman_teardown
}
