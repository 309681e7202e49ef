# A podman of the test's own: its storage, run root and configuration (docs/design/engines.md).

podman_setup() {
	PODMAN_DIR="$BATS_FILE_TMPDIR/podman"
	mkdir -p "$PODMAN_DIR"
	cat >"$PODMAN_DIR/containers.conf" <<CONF
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
	export CONTAINERS_CONF="$PODMAN_DIR/containers.conf"
	export PODMAN_DIR
}

pm() {
	podman --root "$PODMAN_DIR/storage" --runroot "$PODMAN_DIR/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file "$@"
}

podman_teardown() {
	[ -n "${PODMAN_DIR:-}" ] || return 0
	pm rm -af >/dev/null 2>&1 || true
	pm rmi -af >/dev/null 2>&1 || true
	rm -rf "$PODMAN_DIR"
}
