# A dockerd of the test's own (docs/design/engines.md): own data/exec roots, socket and pidfile, no
# iptables or bridge, vfs storage, in a private mount namespace where /etc/cdi is a tmpfs
# holding the given specs, with nvidia-container-runtime-hook on its PATH (enables --gpus).
# DOCKER_NS_SETUP: shell commands run in that namespace before dockerd starts (real_hosts.bats
# mounts its Ubuntu-like /usr/sbin there); dockerd, its containerd, shims and runtimes inherit it.

# docker_start DIR RUNTIME SPEC...
docker_start() {
	local dir=$1 runtime=$2
	shift 2
	DOCKER_DIR=$dir
	mkdir -p "$dir/hookbin" "$dir/specs"
	ln -sf "$runtime" "$dir/hookbin/nvidia-container-runtime-hook"
	cp "$@" "$dir/specs/" 2>/dev/null || true
	# registered the way users do it
	printf '{"log-level": "warn"}\n' >"$dir/daemon.json"
	"$NVBIND" setup docker --config "$dir/daemon.json" --runtime-path "$runtime" >/dev/null || return 1
	cat >"$dir/start.sh" <<SCRIPT
set -e
mkdir -p /etc/cdi /var/run/cdi
mount -t tmpfs nvbind-test-cdi /etc/cdi
mount -t tmpfs nvbind-test-cdi /var/run/cdi
cp $dir/specs/* /etc/cdi/ 2>/dev/null || true
export PATH=$dir/hookbin:\$PATH
${NVBIND_ROOT:+export NVBIND_ROOT=$NVBIND_ROOT}
${DOCKER_NS_SETUP:-}
exec /usr/sbin/dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver vfs \
	--data-root $dir/data --exec-root $dir/exec --pidfile $dir/dockerd.pid \
	-H unix://$dir/docker.sock --config-file $dir/daemon.json
SCRIPT
	setsid unshare -m --propagation private bash "$dir/start.sh" >"$dir/dockerd.log" 2>&1 &
	local i
	for i in $(seq 60); do
		dk info >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	cat "$dir/dockerd.log" >&2
	return 1
}

dk() { /usr/bin/docker -H "unix://$DOCKER_DIR/docker.sock" "$@"; }

docker_stop() {
	[ -n "${DOCKER_DIR:-}" ] && [ -f "$DOCKER_DIR/dockerd.pid" ] || return 0
	local pid i
	pid=$(cat "$DOCKER_DIR/dockerd.pid")
	kill "$pid" 2>/dev/null || true
	for i in $(seq 40); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -rf "$DOCKER_DIR/data" "$DOCKER_DIR/exec" 2>/dev/null || true
}
