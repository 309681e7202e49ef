#!/usr/bin/env bats
# Rootless podman 4.3.1 with nvbind's CDI spec (docs/rootless.md): a throwaway user created
# here, with subordinate IDs of its own, runs podman; --device nvidia.com/gpu=0 on the h100-host
# fixture root gives the container the GPU's nodes and the stand-in libcuda by name, and
# nvbind-hook, running as that user inside the user namespace, writes only inside the container
# and says clearly what it cannot write.
#
# What the suite sets up as root (and undoes): the user (useradd, home under a /tmp directory),
# its /etc/subuid and /etc/subgid entries (both files restored afterwards), a copy of the
# fixture root the user can read (the roots under the bats tmp dir are not traversable by
# others), and, per container, a private mount namespace with the spec in /etc/cdi and the
# fixture's nodes on /dev (helpers/rootless-run: rootless runc bind-mounts each node from its
# container path on the host).

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image

RUN_AS="$BATS_TEST_DIRNAME/helpers/rootless-run"

setup_file() {
	need_engine podman || return 0
	need_engine newuidmap || return 0
	need_engine useradd || return 0
	ensure_roots
	# the user's world: readable by it, outside the bats tmp dir (mode 0700 parents)
	RL=$(mktemp -d /tmp/nvbind-rootless.XXXXXX)
	chmod 0755 "$RL"
	export RL RL_USER="nvbrl$$"
	cp -p /etc/subuid "$RL/subuid.saved" 2>/dev/null || : >"$RL/subuid.absent"
	cp -p /etc/subgid "$RL/subgid.saved" 2>/dev/null || : >"$RL/subgid.absent"
	PATH=$PATH:/usr/sbin useradd -M -d "$RL/home" -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$RL_USER"
	# a range above every existing one
	local start
	start=$(cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: '$3 > 0 && $2 + $3 > m { m = $2 + $3 } END { print (m > 100000 ? m : 100000) }')
	echo "$RL_USER:$start:65536" >>/etc/subuid
	echo "$RL_USER:$start:65536" >>/etc/subgid
	mkdir -p "$RL/home" "$RL/run" "$RL/roots"
	chmod 0700 "$RL/run"
	cat >"$RL/home/containers.conf" <<CONF
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
	chown -R "$RL_USER:" "$RL/home" "$RL/run"
	# the fixture, readable by the user: files a+r, directories a+rx, nodes as mknod'ed (0666)
	cp -a "$ROOTS/h100-host" "$RL/roots/"
	chmod -R a+rX "$RL/roots"
	"$NVBIND" --root "$RL/roots/h100-host" cdi generate --output "$RL/h100.json"
	chmod 0644 "$RL/h100.json"
	make_rootfs "$RL/rootfs"
	rootfs_tar "$RL/rootfs" "$RL/image.tar"
	chmod 0644 "$RL/image.tar"
	as_podman import "$RL/image.tar" localhost/nvbind-e2e:plain >/dev/null
}

teardown_file() {
	[ -n "${RL:-}" ] && [ -d "$RL" ] || return 0
	if [ -n "${RL_USER:-}" ] && id "$RL_USER" >/dev/null 2>&1; then
		local pid
		pid=$(cat "$RL/run/libpod/tmp/pause.pid" 2>/dev/null || true)
		[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
		PATH=$PATH:/usr/sbin userdel "$RL_USER" || true
	fi
	local f
	for f in subuid subgid; do
		if [ -f "$RL/$f.saved" ]; then
			cat "$RL/$f.saved" >"/etc/$f"
		elif [ -f "$RL/$f.absent" ]; then
			rm -f "/etc/$f"
		fi
	done
	rm -rf "$RL"
}

setup() {
	engine_skip
}

# as_user COMMAND...: COMMAND as the suite's user, in rootless-run's namespace
as_user() {
	XDG_RUNTIME_DIR="$RL/run" HOME="$RL/home" CONTAINERS_CONF="$RL/home/containers.conf" \
		"$RUN_AS" "$RL_USER" "$RL/roots/h100-host" "$RL/h100.json" -- env -u SUDO_USER "$@"
}

# podman_user ARGS...: the user's podman (its own storage and run root)
podman_user() {
	podman --root "$HOME/storage" --runroot "$XDG_RUNTIME_DIR/podman" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file "$@"
}
export -f podman_user

# as_podman ARGS...: podman_user as the user
as_podman() {
	as_user bash -c 'podman_user "$@"' podman_user "$@"
}

# in_container IMAGE SCRIPT [PODMAN-RUN-OPTIONS...]
in_container() {
	local image=$1 script=$2
	shift 2
	run as_user bash -c 'podman_user run --rm --network none --device nvidia.com/gpu=0 "$@"' \
		podman_user "$@" "$image" /bin/sh -c "$script"
}

hexpair() { printf '%x %x' "$1" "$2"; }

@test "rootless podman: gpu=0 gets the nodes and the stand-in libcuda by name, as the user" {
	in_container localhost/nvbind-e2e:plain \
		"stat -c '%n %t %T' /dev/nvidia0 /dev/nvidiactl /dev/nvidia-uvm; cat /proc/self/uid_map; probe-cuda; nvidia-smi -L; cat /etc/ld.so.conf.d/00-nvbind.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/nvidia0 $(hexpair 195 0)"* ]]
	[[ "$output" == *"/dev/nvidiactl $(hexpair 195 255)"* ]]
	[[ "$output" == *"/dev/nvidia-uvm $(hexpair 238 0)"* ]]
	# container root is the user on the host: a user namespace, not root
	[[ "$output" =~ [[:space:]]0[[:space:]]+$(id -u "$RL_USER")[[:space:]]+1 ]]
	[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
	[[ "$output" == *"GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a)"* ]]
	[[ "$output" == *"/usr/lib/nvbind/lib"* ]] # the driver folder, in the loader configuration
}

@test "rootless podman: --read-only still gets the libraries (the hook runs before the remount)" {
	in_container localhost/nvbind-e2e:plain "probe-cuda; touch /x 2>&1 || true" --read-only
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nvbind-standin libcuda 580.159.04"* ]]
	[[ "$output" == *"Read-only file system"* ]]
}

@test "rootless podman: a read-only ld.so.conf.d volume is a clear hook error, the host dir untouched" {
	mkdir -p "$RL/roconf"
	chmod 0755 "$RL/roconf"
	in_container localhost/nvbind-e2e:plain "probe-cuda" -v "$RL/roconf:/etc/ld.so.conf.d:ro"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"nvbind-hook: error: cannot write /etc/ld.so.conf.d/00-nvbind.conf in the container: Read-only file system"* ]]
	[ -z "$(ls -A "$RL/roconf")" ]
}

@test "rootless podman: hostile image, /etc and the library dir are links to / ; the host is untouched" {
	local dir="$RL/rootfs-libroot"
	cp -a "$RL/rootfs" "$dir"
	(cd "$dir" && mkdir -p usr/local && ln -s / usr/local/nvidia && rm -rf etc && ln -s / etc)
	rootfs_tar "$dir" "$RL/libroot.tar"
	chmod 0644 "$RL/libroot.tar"
	as_podman import "$RL/libroot.tar" localhost/nvbind-e2e:libroot >/dev/null
	before=$(ls -la /etc/ld.so.conf.d /lib64 /usr/local; sha256sum /etc/ld.so.cache)
	in_container localhost/nvbind-e2e:libroot "probe-cuda"
	echo "$output"
	[ "$(ls -la /etc/ld.so.conf.d /lib64 /usr/local; sha256sum /etc/ld.so.cache)" = "$before" ]
	[ ! -e /etc/ld.so.conf.d/00-nvbind.conf ]
	[ ! -e /lib64/libcuda.so.1 ]
}

@test "rootless: nvbind doctor run as the user finds its sub-IDs and node access" {
	# the fixture root's own account files name the user, as a real host's would
	local r="$RL/roots/h100-host"
	mkdir -p "$r/etc"
	getent passwd "$RL_USER" >>"$r/etc/passwd"
	grep "^$RL_USER:" /etc/subuid >>"$r/etc/subuid"
	grep "^$RL_USER:" /etc/subgid >>"$r/etc/subgid"
	run as_user "$NVBIND" --root "$RL/roots/h100-host" doctor --json
	echo "$output"
	code() { jq -r --arg c "$1" '.findings[] | select(.code == $c) | .severity' <<<"$output"; }
	[ "$(code rootless-user-subids-ok)" = ok ]
	[ "$(code rootless-user-nodes-ok)" = ok ]
}
