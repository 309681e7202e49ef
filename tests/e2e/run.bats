#!/usr/bin/env bats
# nvbind config and nvbind run, with the real podman and dockerd against a fixture root.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/podman
load helpers/docker

RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"
WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"

setup_file() {
	ensure_roots
	export ROOTS
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	rootfs_tar "$BATS_FILE_TMPDIR/rootfs" "$BATS_FILE_TMPDIR/image.tar"
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$BATS_FILE_TMPDIR/gpu.json" 2>/dev/null
	podman_setup
	pm import "$BATS_FILE_TMPDIR/image.tar" localhost/nvbind-e2e:plain >/dev/null
	DOCKER_DIR=$(mktemp -d /tmp/nvbd.XXXXXX)
	echo "$DOCKER_DIR" >"$BATS_FILE_TMPDIR/docker-dir"
	NVBIND_ROOT="$ROOTS/debian-4gpu" docker_start "$DOCKER_DIR" "$(readlink -f "$RUNTIME")" "$BATS_FILE_TMPDIR/gpu.json"
	dk import "$BATS_FILE_TMPDIR/image.tar" nvbind-e2e:plain >/dev/null
	# the engines of this suite, through the configuration file
	cat >"$BATS_FILE_TMPDIR/config.toml" <<CONF
[engines]
podman = ["podman", "--root", "$PODMAN_DIR/storage", "--runroot", "$PODMAN_DIR/run", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
docker = ["/usr/bin/docker", "-H", "unix://$DOCKER_DIR/docker.sock"]

[profiles.render]
description = "test profile"
capabilities = "graphics,compute,utility"
devices = "2"
env = { RENDER_MODE = "offline" }
CONF
}

teardown_file() {
	DOCKER_DIR=$(cat "$BATS_FILE_TMPDIR/docker-dir" 2>/dev/null) || true
	if [ -n "$DOCKER_DIR" ]; then
		docker_stop
		rm -rf "$DOCKER_DIR"
	fi
	podman_teardown
}

setup() {
	export NVBIND_CONFIG="$BATS_FILE_TMPDIR/config.toml"
	export CONTAINERS_CONF="$BATS_FILE_TMPDIR/podman/containers.conf"
	PODMAN_DIR="$BATS_FILE_TMPDIR/podman"
	DOCKER_DIR=$(cat "$BATS_FILE_TMPDIR/docker-dir")
}

PROBE='for n in /dev/nvidia[0-9]*; do [ -e "$n" ] && echo "node $n"; done; env | sort | sed "s/^/env /"; true'
nodes_of() { grep '^node ' <<<"$output" | sed 's/^node //' | sort | xargs; }
env_of() { grep "^env $1=" <<<"$output" | sed "s/^env $1=//"; }

nvrun() { # nvrun ARGS...: nvbind run inside the private CDI namespace
	run "$WITH_SPECS" "$BATS_FILE_TMPDIR/gpu.json" -- "$NVBIND" run "$@"
	echo "$output"
}

@test "config init / validate / show: sources of each value" {
	run "$NVBIND" config init --output "$BATS_TEST_TMPDIR/c.toml"
	[ "$status" -eq 0 ]
	run "$NVBIND" config validate "$BATS_TEST_TMPDIR/c.toml"
	[ "$status" -eq 0 ]
	run "$NVBIND" config init --output "$BATS_TEST_TMPDIR/c.toml"
	[ "$status" -eq 2 ] # refuses to replace
	run "$NVBIND" config show
	[ "$status" -eq 0 ]
	[[ "$output" == *"podman = [\"podman\", \"--root\""*"# $BATS_FILE_TMPDIR/config.toml:2"* ]]
	[[ "$output" == *'engine = "podman"  # default'* ]]
	[[ "$output" == *"[profiles.render]  # $BATS_FILE_TMPDIR/config.toml:"* ]]
	[[ "$output" == *"[profiles.gaming]  # built-in"* ]]
	NVBIND_ROOT=/srv run "$NVBIND" config show
	[[ "$output" == *'root = "/srv"  # NVBIND_ROOT'* ]]
	run "$NVBIND" --root /mnt config show
	[[ "$output" == *'root = "/mnt"  # --root'* ]]
	# global flags, before or after the command, are sources like the others
	run "$NVBIND" config show --root /mnt --log-level debug
	[[ "$output" == *'root = "/mnt"  # --root'* ]]
	[[ "$output" == *'level = "debug"  # --log-level'* ]]
	printf '[host]\nrot = "/"\n' >"$BATS_TEST_TMPDIR/bad.toml"
	run "$NVBIND" config validate "$BATS_TEST_TMPDIR/bad.toml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad.toml:2:1: unknown key 'host.rot'"* ]]
	[[ "$output" == *"hint: did you mean 'host.root'?"* ]]
	# every command reads the configuration: a broken one stops them with the same message
	NVBIND_CONFIG="$BATS_TEST_TMPDIR/bad.toml" run "$NVBIND" info
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown key 'host.rot'"* ]]
	# ... except the wrapper's pass-through commands (runtime.md): they never depend on it
	NVBIND_CONFIG="$BATS_TEST_TMPDIR/bad.toml" run "$RUNTIME" --version
	[ "$status" -eq 0 ]
	[[ "$output" == *"runc version"* ]]
}

@test "run: an unknown profile suggests the closest one, the configuration's included" {
	run "$NVBIND" run --dry-run --profile rendr img
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown profile 'rendr'"* ]]
	[[ "$output" == *"hint: did you mean 'render'?"* ]]
	run "$NVBIND" run --dry-run --profile render img
	[ "$status" -eq 0 ]
	[[ "$output" == *"RENDER_MODE=offline"* ]]
}

@test "run --dry-run prints the exact command for each engine" {
	run "$NVBIND" run --runtime podman --gpu 0,GPU-abc --env A=1 --dry-run img sh -c 'echo hi'
	[ "$status" -eq 0 ]
	[[ "$output" == "podman --root "*" run --device nvidia.com/gpu=0 --device nvidia.com/gpu=GPU-abc -e NVIDIA_VISIBLE_DEVICES=void -e NVIDIA_DRIVER_CAPABILITIES=compute,utility -e A=1 img sh -c 'echo hi'" ]]
	run "$NVBIND" run --runtime bolt --gpu all --dry-run img
	[ "$output" = "bolt run img --runtime nvbind --gpu all -e NVIDIA_DRIVER_CAPABILITIES=compute,utility" ]
	run "$NVBIND" run --runtime docker --gpu none --dry-run img true
	[[ "$output" == *" run -e NVIDIA_VISIBLE_DEVICES=void img true" ]]
	run "$NVBIND" run --runtime lxc img
	[ "$status" -eq 2 ]
	run "$NVBIND" run --gpu 'x;y' img
	[ "$status" -eq 2 ]
	[[ "$output" == *"'x;y' is not a GPU"* ]]
	run "$NVBIND" run --profile nope img
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown profile 'nope'"* ]]
}

@test "run with podman: --gpu 0, all, none reach the container" {
	nvrun --runtime podman --gpu 0 localhost/nvbind-e2e:plain /bin/sh -c "$PROBE"
	[ "$status" -eq 0 ]
	[ "$(nodes_of)" = /dev/nvidia2 ]
	nvrun --runtime podman --gpu all localhost/nvbind-e2e:plain /bin/sh -c "$PROBE"
	[ "$(nodes_of)" = "/dev/nvidia0 /dev/nvidia1 /dev/nvidia2 /dev/nvidia3" ]
	nvrun --runtime podman --gpu none localhost/nvbind-e2e:plain /bin/sh -c "$PROBE"
	[ "$status" -eq 0 ]
	[ -z "$(nodes_of)" ]
}

@test "run with docker: --gpu 0, all, none reach the container" {
	nvrun --runtime docker --gpu 0 nvbind-e2e:plain /bin/sh -c "$PROBE; probe-cuda"
	[ "$status" -eq 0 ]
	[ "$(nodes_of)" = /dev/nvidia2 ]
	[[ "$output" == *"nvbind-standin libcuda 550.54.14"* ]]
	nvrun --runtime docker --gpu all nvbind-e2e:plain /bin/sh -c "$PROBE"
	[ "$(nodes_of)" = "/dev/nvidia0 /dev/nvidia1 /dev/nvidia2 /dev/nvidia3" ]
	nvrun --runtime docker --gpu none nvbind-e2e:plain /bin/sh -c "$PROBE"
	[ -z "$(nodes_of)" ]
}

@test "run: every built-in profile's environment and capabilities reach the container" {
	for engine in podman docker; do
		image=nvbind-e2e:plain
		[ "$engine" = podman ] && image=localhost/nvbind-e2e:plain
		nvrun --runtime "$engine" --profile gaming --gpu 1 "$image" /bin/sh -c "$PROBE"
		[ "$status" -eq 0 ]
		[ "$(nodes_of)" = /dev/nvidia0 ]
		[ "$(env_of __GLX_VENDOR_LIBRARY_NAME)" = nvidia ]
		[ "$(env_of VK_DRIVER_FILES)" = /usr/share/vulkan/icd.d/nvidia_icd.json ]
		[ "$(env_of PROTON_ENABLE_NVAPI)" = 1 ]
		[ "$(env_of NVIDIA_DRIVER_CAPABILITIES)" = graphics,display,video,compute,utility,ngx ]
		nvrun --runtime "$engine" --profile ai-ml "$image" /bin/sh -c "$PROBE"
		[ "$(env_of PYTORCH_CUDA_ALLOC_CONF)" = expandable_segments:True ]
		[ "$(env_of CUDA_MODULE_LOADING)" = LAZY ]
		[ "$(env_of NVIDIA_DRIVER_CAPABILITIES)" = compute,utility ]
		[ "$(nodes_of)" = "/dev/nvidia0 /dev/nvidia1 /dev/nvidia2 /dev/nvidia3" ]
		nvrun --runtime "$engine" --profile video --gpu 3 "$image" /bin/sh -c "$PROBE"
		[ "$(env_of NVIDIA_DRIVER_CAPABILITIES)" = video,compute,utility ]
		[ "$(nodes_of)" = /dev/nvidia1 ]
		nvrun --runtime "$engine" --profile compute --gpu 0 --env EXTRA=yes "$image" /bin/sh -c "$PROBE"
		[ "$(env_of NVIDIA_DRIVER_CAPABILITIES)" = compute,utility ]
		[ "$(env_of EXTRA)" = yes ]
		# a user-defined profile: its devices and env; --env wins over the profile
		nvrun --runtime "$engine" --profile render --env RENDER_MODE=preview "$image" /bin/sh -c "$PROBE"
		[ "$(nodes_of)" = /dev/nvidia3 ]
		[ "$(env_of RENDER_MODE)" = preview ]
	done
}

@test "run with docker: the graphics capability puts the GLX library in" {
	# (the driver folder holds every library: what the capabilities choose is what the loader
	# cache registers)
	nvrun --runtime docker --profile gaming --gpu 0 nvbind-e2e:plain /bin/sh -c 'echo "glx $(grep -c libGLX_nvidia.so.0 /etc/ld.so.cache)"'
	[[ "$output" == *"glx 1"* ]]
	nvrun --runtime docker --profile compute --gpu 0 nvbind-e2e:plain /bin/sh -c 'echo "glx $(grep -c libGLX_nvidia.so.0 /etc/ld.so.cache) cuda $(grep -c libcuda.so.1 /etc/ld.so.cache)"'
	[[ "$output" == *"glx 0 cuda 1"* ]]
}

# --gpu none with bolt: the image's own NVIDIA_VISIBLE_DEVICES must not give GPUs back.
@test "run --runtime bolt --gpu none sets NVIDIA_VISIBLE_DEVICES=void" {
	run "$NVBIND" run --runtime bolt --gpu none --dry-run img
	[ "$status" -eq 0 ]
	[[ "$output" == *"--runtime nvbind -e NVIDIA_VISIBLE_DEVICES=void"* ]]
	[[ "$output" != *"--gpu"* ]]
}
