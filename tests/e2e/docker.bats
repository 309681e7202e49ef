#!/usr/bin/env bats
# nvbind-runtime under the real dockerd 20.10 and podman 4.3.1, against fixture roots.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/docker
load helpers/podman

RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

setup_file() {
	need_engine dockerd || return 0
	ensure_roots
	export ROOTS
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	rootfs_tar "$BATS_FILE_TMPDIR/rootfs" "$BATS_FILE_TMPDIR/image.tar"
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$BATS_FILE_TMPDIR/debian-4gpu.json" 2>/dev/null
	# a short directory: containerd's socket paths must stay under 108 bytes
	DOCKER_DIR=$(mktemp -d /tmp/nvbd.XXXXXX)
	export DOCKER_DIR
	echo "$DOCKER_DIR" >"$BATS_FILE_TMPDIR/docker-dir"
	# the wrapper reads the driver version (NVIDIA_REQUIRE_*) from this host root
	NVBIND_ROOT="$ROOTS/debian-4gpu" docker_start "$DOCKER_DIR" "$(readlink -f "$RUNTIME")" \
		"$BATS_FILE_TMPDIR/debian-4gpu.json"
	dk import "$BATS_FILE_TMPDIR/image.tar" nvbind-e2e:plain >/dev/null
}

teardown_file() {
	DOCKER_DIR=$(cat "$BATS_FILE_TMPDIR/docker-dir" 2>/dev/null) || return 0
	dk rm -f $(dk ps -aq) >/dev/null 2>&1 || true
	docker_stop
	rm -rf "$DOCKER_DIR"
	podman_teardown
}

setup() {
	engine_skip
	DOCKER_DIR=$(cat "$BATS_FILE_TMPDIR/docker-dir")
}

NODES='for n in /dev/nvidia[0-9]*; do [ -e "$n" ] && echo "node $n"; done; true'

nodes_of() { grep '^node ' <<<"$output" | sed 's/^node //' | sort | xargs; }

@test "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0: GPU 0 only, libcuda loads" {
	run dk run --rm --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 nvbind-e2e:plain /bin/sh -c "$NODES; probe-cuda; nvidia-smi -L"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(nodes_of)" = /dev/nvidia2 ]
	[[ "$output" == *"nvbind-standin libcuda 550.54.14"* ]]
	[ "$(grep -c '^GPU ' <<<"$output")" -eq 1 ]
}

@test "docker run --gpus all (through nvidia-container-runtime-hook's name): every GPU" {
	run dk run --rm --runtime nvbind --gpus all nvbind-e2e:plain /bin/sh -c "$NODES; probe-cuda"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(nodes_of)" = "/dev/nvidia0 /dev/nvidia1 /dev/nvidia2 /dev/nvidia3" ]
	[[ "$output" == *"nvbind-standin libcuda 550.54.14"* ]]
}

@test "docker run --gpus '\"device=1\"': the second GPU in bus order" {
	run dk run --rm --runtime nvbind --gpus '"device=1"' nvbind-e2e:plain /bin/sh -c "$NODES; nvidia-smi -L"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(nodes_of)" = /dev/nvidia0 ]
	[[ "$output" == *"GPU-9e7c2b18-3d4f-5a60-b1c2-7f8e9a0d1c23"* ]]
}

@test "docker: NVIDIA_VISIBLE_DEVICES=none gives no GPU" {
	run dk run --rm --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=none nvbind-e2e:plain /bin/sh -c "$NODES"
	[ "$status" -eq 0 ]
	[ -z "$(nodes_of)" ]
}

@test "docker: an unsatisfied NVIDIA_REQUIRE_CUDA fails with the specific message" {
	run dk run --rm --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 -e "NVIDIA_REQUIRE_CUDA=cuda>=13.0" nvbind-e2e:plain true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"unsatisfied requirement NVIDIA_REQUIRE_CUDA: cuda>=13.0 (driver 550.54.14 supports CUDA 12.4)"* ]]
}

@test "docker: --gpus without the nvbind runtime fails with a clear message" {
	run dk run --rm --gpus all nvbind-e2e:plain true
	[ "$status" -ne 0 ]
	[[ "$output" == *"started without the nvbind runtime"* ]]
}

@test "podman --runtime nvbind-runtime run -e NVIDIA_VISIBLE_DEVICES=all" {
	podman_setup
	pm import "$BATS_FILE_TMPDIR/image.tar" localhost/nvbind-e2e:plain >/dev/null
	run "$BATS_TEST_DIRNAME/helpers/with-cdi-specs" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- \
		podman --root "$PODMAN_DIR/storage" --runroot "$PODMAN_DIR/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime "$(readlink -f "$RUNTIME")" \
		run --rm --network none -e NVIDIA_VISIBLE_DEVICES=all localhost/nvbind-e2e:plain /bin/sh -c "$NODES; probe-cuda"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(nodes_of)" = "/dev/nvidia0 /dev/nvidia1 /dev/nvidia2 /dev/nvidia3" ]
	[[ "$output" == *"nvbind-standin libcuda 550.54.14"* ]]
}

@test "nvbind setup podman: podman --runtime nvbind finds the registered wrapper" {
	podman_setup
	pm import "$BATS_FILE_TMPDIR/image.tar" localhost/nvbind-e2e:plain >/dev/null
	run "$NVBIND" setup podman --config "$CONTAINERS_CONF" --runtime-path "$(readlink -f "$RUNTIME")" --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"+nvbind = [\"$(readlink -f "$RUNTIME")\"]"* ]]
	run "$NVBIND" setup podman --config "$CONTAINERS_CONF" --runtime-path "$(readlink -f "$RUNTIME")"
	[ "$status" -eq 0 ]
	ls "$CONTAINERS_CONF".nvbind-backup-*
	grep -q 'default_ulimits = \[\]' "$CONTAINERS_CONF"
	run "$BATS_TEST_DIRNAME/helpers/with-cdi-specs" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- \
		podman --root "$PODMAN_DIR/storage" --runroot "$PODMAN_DIR/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime nvbind \
		run --rm --network none -e NVIDIA_VISIBLE_DEVICES=2 localhost/nvbind-e2e:plain /bin/sh -c "$NODES"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(nodes_of)" = /dev/nvidia3 ]
}

@test "nvbind setup docker: keeps settings, backs up, refuses a file it cannot parse" {
	grep -q '"log-level": "warn"' "$DOCKER_DIR/daemon.json"
	jq -e '.runtimes.nvbind.path' "$DOCKER_DIR/daemon.json" >/dev/null
	echo '{"runtimes": ' >"$BATS_TEST_TMPDIR/broken.json"
	cp "$BATS_TEST_TMPDIR/broken.json" "$BATS_TEST_TMPDIR/before.json"
	run "$NVBIND" setup docker --config "$BATS_TEST_TMPDIR/broken.json" --default
	[ "$status" -eq 1 ]
	[[ "$output" == *"broken.json:"*"refusing to rewrite a file nvbind cannot parse"* ]]
	cmp "$BATS_TEST_TMPDIR/broken.json" "$BATS_TEST_TMPDIR/before.json"
	run "$NVBIND" setup docker --config "$DOCKER_DIR/daemon.json" --runtime-path "$(readlink -f "$RUNTIME")" --default --dry-run
	# the one-line daemon.json docker_start wrote stays one line (setup_engines.bats has the rest)
	[[ "$output" == *'@@ -1 +1 @@'*'+{"log-level": "warn", "runtimes": {"nvbind": {"path": '*'}}, "default-runtime": "nvbind"}'* ]]
}

@test "nvbind setup docker --default --cdi, then --undo: the running dockerd 20.10 reloads both files" {
	local conf=$DOCKER_DIR/daemon.json pid
	cp "$conf" "$BATS_TEST_TMPDIR/orig.json"
	pid=$(cat "$DOCKER_DIR/dockerd.pid")
	# SIGHUP: dockerd reads the file again (daemon.json has log-level warn: only a failure is
	# logged); its default runtime must become $1
	reload() {
		local i
		kill -HUP "$pid"
		for i in $(seq 40); do
			[ "$(dk info --format '{{.DefaultRuntime}}')" = "$1" ] && return 0
			sleep 0.25
		done
		grep -i 'reconfigur\|reload' "$DOCKER_DIR/dockerd.log" | tail -5
		return 1
	}
	run "$NVBIND" setup docker --config "$conf" --runtime-path "$(readlink -f "$RUNTIME")" --default --cdi
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Docker 25 or later"* ]]
	jq -e '."default-runtime" == "nvbind" and .features.cdi == true' "$conf"
	[ "$(wc -l <"$conf")" -eq 1 ]
	reload nvbind
	run "$NVBIND" setup docker --config "$conf" --undo
	[ "$status" -eq 0 ]
	cmp "$conf" "$BATS_TEST_TMPDIR/orig.json"
	# dockerd keeps a default runtime the reloaded file no longer names: the original file must
	# reload without an error
	local lines
	lines=$(wc -l <"$DOCKER_DIR/dockerd.log")
	reload nvbind
	sleep 1
	! tail -n +$((lines + 1)) "$DOCKER_DIR/dockerd.log" | grep -iE 'level=error.*(configur|daemon\.json)'
}
