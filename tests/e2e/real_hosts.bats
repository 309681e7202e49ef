#!/usr/bin/env bats
# Real host layouts and real images, end to end with the real runc, podman and dockerd:
#  - an Ubuntu-like host, where /sbin/ldconfig is libc-bin's shell wrapper around
#    /sbin/ldconfig.real (every GPU container failed there while nvbind ran the host's ldconfig):
#    the wrapper path, docker --gpus and podman's CDI path must each give a loadable libcuda.so.1;
#  - a Debian image built from real Debian packages with its own /etc/ld.so.cache: after nvbind,
#    the stand-in libcuda.so.1 and the image's own libz.so.1 load by name, and every entry of the
#    image's cache is still in the container's;
#  - images whose /etc/ld.so.cache is missing, a symlink to a host file, or a directory, or that
#    have no /etc/ld.so.conf: a working container or an error naming the file, never a write
#    outside the container root.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle
load helpers/podman
load helpers/docker

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
UBUNTU="$BATS_TEST_DIRNAME/helpers/ubuntu-host.sh"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

setup_file() {
	need_engine runc || return 0
	ensure_roots
	export ROOTS
	"$UBUNTU" prepare "$BATS_FILE_TMPDIR/ubuntu"
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	rootfs_tar "$BATS_FILE_TMPDIR/rootfs" "$BATS_FILE_TMPDIR/plain.tar"
	# the .debs and the Debian rootfs are kept under the build directory: reruns only check them
	DEBIAN_IMAGE="${NVB_BUILD_ROOT:-$BATS_FILE_TMPDIR}/e2e-cache/debian12"
	"$BATS_TEST_DIRNAME/helpers/make-debian-image.sh" "$DEBIAN_IMAGE"
	echo "$DEBIAN_IMAGE" >"$BATS_FILE_TMPDIR/debian-image"
	rootfs_tar "$DEBIAN_IMAGE/rootfs" "$BATS_FILE_TMPDIR/debian.tar"
	"$NVBIND" --root "$ROOTS/h100-host" cdi generate --output "$BATS_FILE_TMPDIR/h100-host.json"
	if command -v podman >/dev/null; then
		podman_setup
		pm import "$BATS_FILE_TMPDIR/plain.tar" localhost/nvbind-e2e:plain >/dev/null
		pm import "$BATS_FILE_TMPDIR/debian.tar" localhost/nvbind-e2e:debian >/dev/null
	fi
}

teardown_file() {
	PODMAN_DIR="$BATS_FILE_TMPDIR/podman"
	[ -d "$PODMAN_DIR" ] && podman_teardown
	return 0
}

setup() {
	engine_skip
	STATE="$BATS_TEST_TMPDIR/runc-state"
	B="$BATS_TEST_TMPDIR/bundle"
	DEBIAN_IMAGE=$(cat "$BATS_FILE_TMPDIR/debian-image")
	export CONTAINERS_CONF="$BATS_FILE_TMPDIR/podman/containers.conf"
	PODMAN_DIR="$BATS_FILE_TMPDIR/podman"
	HOST_CACHE_SUM=$(sha256sum /etc/ld.so.cache)
}

teardown() {
	local c
	for c in $(runc --root "$STATE" list -q 2>/dev/null); do
		runc --root "$STATE" delete --force "$c" >/dev/null 2>&1 || true
	done
	if [ -n "${DOCKER_DIR:-}" ]; then
		dk rm -f $(dk ps -aq) >/dev/null 2>&1 || true
		docker_stop
		rm -rf "$DOCKER_DIR"
	fi
	# whatever the image did, the host's own cache is the same file as before
	[ -z "${HOST_CACHE_SUM:-}" ] || [ "$(sha256sum /etc/ld.so.cache)" = "$HOST_CACHE_SUM" ]
}

# on_ubuntu COMMAND...: COMMAND on the Ubuntu-like host (a private mount namespace)
on_ubuntu() { "$UBUNTU" run "$BATS_FILE_TMPDIR/ubuntu" "$@"; }

# wrapper_run [on_ubuntu]: the bundle $B through nvbind-runtime and runc, no spec installed
# (generated in memory from the H100 fixture root), NVIDIA_VISIBLE_DEVICES=all
wrapper_run() {
	bundle_env "$B" NVIDIA_VISIBLE_DEVICES=all
	run "$@" "$WITH_SPECS" -- env NVBIND_ROOT="$ROOTS/h100-host" \
		"$RUNTIME" --root "$STATE" run -b "$B" "c$BATS_TEST_NUMBER"
	echo "$output"
}

# cdi_run IMAGE SCRIPT [on_ubuntu]: podman with --device nvidia.com/gpu=all and the H100 spec,
# the CDI path alone (podman's own runc, no nvbind-runtime); /out is $BATS_TEST_TMPDIR/out
cdi_run() {
	local image=$1 script=$2
	shift 2
	mkdir -p "$BATS_TEST_TMPDIR/out"
	run "$@" "$WITH_SPECS" "$BATS_FILE_TMPDIR/h100-host.json" -- podman --root "$PODMAN_DIR/storage" \
		--runroot "$PODMAN_DIR/run" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file run --rm --network none --device nvidia.com/gpu=all \
		-v "$BATS_TEST_TMPDIR/out:/out" "$image" /bin/sh -c "$script"
	echo "$output"
}

# a bundle whose /out is $BATS_TEST_TMPDIR/out, for files the container hands back
bundle_out() {
	mkdir -p "$BATS_TEST_TMPDIR/out"
	bundle_edit "$B" '.mounts += [{"destination": "/out", "type": "bind", "source": $o,
		"options": ["rbind", "rw"]}]' --arg o "$BATS_TEST_TMPDIR/out"
}

# cache_entries FILE: "name (flags) => path" lines of an ld.so.cache, as the host's ldconfig reads it
cache_entries() { ldconfig -p -C "$1" | tail -n +2 | sed 's/^[[:space:]]*//' | sort -u; }

# the image's cache entries missing from the container's cache ($BATS_TEST_TMPDIR/out/ld.so.cache)
lost_entries() {
	comm -23 <(cache_entries "$DEBIAN_IMAGE/rootfs/etc/ld.so.cache") \
		<(cache_entries "$BATS_TEST_TMPDIR/out/ld.so.cache")
}

# ------------------------------------------------------------------ an Ubuntu-like host

@test "ubuntu-like host: /sbin/ldconfig is libc-bin's wrapper script, the ELF is ldconfig.real; the host is untouched" {
	run on_ubuntu sh -c 'head -1 /sbin/ldconfig; tail -1 /sbin/ldconfig; head -c 4 /sbin/ldconfig.real | od -An -c; /sbin/ldconfig -p | head -1'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "#!/bin/sh" ]
	[ "${lines[1]}" = 'exec /sbin/ldconfig.real "$@"' ]
	[[ "${lines[2]}" == *"E   L   F"* ]]
	[[ "${lines[3]}" == *"libs found in cache"* ]] # the wrapper works like Ubuntu's
	[ "$(head -c 4 /sbin/ldconfig | od -An -c | xargs)" = "177 E L F" ]
	[ ! -e /sbin/ldconfig.real ]
}

@test "ubuntu-like host, wrapper path: nvbind-runtime + runc, NVIDIA_VISIBLE_DEVICES=all, libcuda.so.1 loads" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "probe-cuda"
	wrapper_run on_ubuntu
	[ "$status" -eq 0 ]
	[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
}

@test "ubuntu-like host, docker run --runtime nvbind --gpus all: libcuda.so.1 loads" {
	need_engine dockerd
	# dockerd starts in its own private mount namespace (helpers/docker.bash); DOCKER_NS_SETUP
	# mounts the Ubuntu-like /usr/sbin there before dockerd execs, so dockerd, its containerd,
	# the shims, nvbind-runtime and runc all see /sbin/ldconfig as the wrapper script.
	# A short directory: containerd's socket paths must stay under 108 bytes.
	DOCKER_DIR=$(mktemp -d /tmp/nvbr.XXXXXX)
	DOCKER_NS_SETUP="'$UBUNTU' mount '$BATS_FILE_TMPDIR/ubuntu'" NVBIND_ROOT="$ROOTS/h100-host" \
		docker_start "$DOCKER_DIR" "$(readlink -f "$RUNTIME")" "$BATS_FILE_TMPDIR/h100-host.json"
	grep -q "^'$UBUNTU' mount" "$DOCKER_DIR/start.sh"
	dk import "$BATS_FILE_TMPDIR/plain.tar" nvbind-e2e:plain >/dev/null
	run dk run --rm --runtime nvbind --gpus all nvbind-e2e:plain /bin/sh -c "ls /dev/nvidia0 && probe-cuda"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
}

@test "ubuntu-like host, podman --device nvidia.com/gpu=all (CDI spec alone): libcuda.so.1 loads" {
	need_engine podman
	cdi_run localhost/nvbind-e2e:plain "ls /dev/nvidia0 && probe-cuda" on_ubuntu
	[ "$status" -eq 0 ]
	[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
}

# ------------------------------------------------------------------ a Debian image from Debian packages

@test "debian image from real packages: its own ldconfig wrote a cache with libz.so.1; without nvbind no libcuda" {
	[ -x "$DEBIAN_IMAGE/rootfs/sbin/ldconfig" ]
	cache_entries "$DEBIAN_IMAGE/rootfs/etc/ld.so.cache" | grep -q '^libz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1$'
	make_bundle "$B" "$DEBIAN_IMAGE/rootfs" "dlopen-probe libz.so.1 libcuda.so.1"
	run runc --root "$STATE" run -b "$B" "plain$BATS_TEST_NUMBER"
	echo "$output"
	[ "$status" -eq 1 ] # the probe can fail: the test below is not vacuous
	[[ "$output" == *"libz.so.1 ok"* ]]
	[[ "$output" == *"libcuda.so.1 failed"* ]]
}

@test "debian image, wrapper path: libcuda.so.1 and the image's libz.so.1 load; the image's cache entries are kept" {
	make_bundle "$B" "$DEBIAN_IMAGE/rootfs" "dlopen-probe libcuda.so.1 libz.so.1 && cp /etc/ld.so.cache /out/"
	bundle_out
	wrapper_run
	[ "$status" -eq 0 ]
	[[ "$output" == *"libcuda.so.1 ok"* ]]
	[[ "$output" == *"libz.so.1 ok"* ]]
	cache_entries "$BATS_TEST_TMPDIR/out/ld.so.cache" | grep -q '^libcuda.so.1 (libc6,x86-64) => '
	lost=$(lost_entries)
	echo "entries of the image's cache the container lost: [$lost]"
	[ -z "$lost" ]
}

@test "debian image, podman CDI path: libcuda.so.1 and the image's libz.so.1 load; the image's cache entries are kept" {
	need_engine podman
	cdi_run localhost/nvbind-e2e:debian "dlopen-probe libcuda.so.1 libz.so.1 && cp /etc/ld.so.cache /out/"
	[ "$status" -eq 0 ]
	[[ "$output" == *"libcuda.so.1 ok"* ]]
	[[ "$output" == *"libz.so.1 ok"* ]]
	cache_entries "$BATS_TEST_TMPDIR/out/ld.so.cache" | grep -q '^libcuda.so.1 (libc6,x86-64) => '
	lost=$(lost_entries)
	echo "entries of the image's cache the container lost: [$lost]"
	[ -z "$lost" ]
}

# ------------------------------------------------------------------ unusual /etc/ld.so.cache and ld.so.conf

# odd_rootfs NAME SETUP: a copy of the Debian rootfs that SETUP (shell, run in it) altered
odd_rootfs() {
	ODD="$BATS_TEST_TMPDIR/rootfs-$1"
	cp -a "$DEBIAN_IMAGE/rootfs" "$ODD"
	(cd "$ODD" && eval "$2")
}

# a working container where libcuda.so.1 loads, or a refusal naming /etc/ld.so.cache before the
# container's program ran
works_or_names_the_file() {
	if [ "$status" -eq 0 ]; then
		[[ "$output" == *"libcuda.so.1 ok"* ]]
	else
		[[ "$output" == *"ld.so.cache"* ]]
		[[ "$output" != *"libcuda.so.1 failed"* ]]
	fi
}

# each_path NAME SETUP: the altered image through the wrapper path, then podman's CDI path
each_path() {
	local name=$1 setup=$2
	odd_rootfs "$name" "$setup"
	make_bundle "$B" "$ODD" "dlopen-probe libcuda.so.1"
	wrapper_run
	works_or_names_the_file
	after_each_path
	need_engine podman
	rootfs_tar "$ODD" "$BATS_TEST_TMPDIR/$name.tar"
	pm import -q "$BATS_TEST_TMPDIR/$name.tar" "localhost/nvbind-e2e:$name" >/dev/null
	cdi_run "localhost/nvbind-e2e:$name" "dlopen-probe libcuda.so.1"
	works_or_names_the_file
	after_each_path
}
after_each_path() { :; }

@test "image without /etc/ld.so.cache: works or names the file (wrapper and CDI paths)" {
	each_path nocache 'rm etc/ld.so.cache'
}

@test "image without /etc/ld.so.conf: works or names the file (wrapper and CDI paths)" {
	each_path noconf 'rm etc/ld.so.conf'
}

@test "image whose /etc/ld.so.cache is a symlink to a host file: the host file is untouched" {
	SENTINEL=$(mktemp /tmp/nvbind-sentinel.XXXXXX)
	printf 'host file, not a cache\n' >"$SENTINEL"
	touch -d '2001-01-01 00:00:00' "$SENTINEL"
	before=$(stat -c '%s %Y %i %a' "$SENTINEL"; sha256sum <"$SENTINEL")
	after_each_path() {
		[ "$(stat -c '%s %Y %i %a' "$SENTINEL"; sha256sum <"$SENTINEL")" = "$before" ]
		# nothing written beside it either (a temporary file of an atomic write)
		[ "$(ls /tmp | grep -c "^$(basename "$SENTINEL")")" -eq 1 ]
	}
	each_path cachelink "rm etc/ld.so.cache && ln -s '$SENTINEL' etc/ld.so.cache"
	rm -f "$SENTINEL"
}

@test "image whose /etc/ld.so.cache is a directory: works or names the file (wrapper and CDI paths)" {
	each_path cachedir 'rm etc/ld.so.cache && mkdir etc/ld.so.cache && echo keep >etc/ld.so.cache/file'
}
