# OCI bundles for runc-level tests: `runc spec`, a copy of the test rootfs, jq edits.

# make_bundle DIR ROOTFS SCRIPT: a bundle whose process runs /bin/sh -c SCRIPT
make_bundle() {
	local dir=$1 rootfs=$2 script=$3
	mkdir -p "$dir"
	cp -a "$rootfs" "$dir/rootfs"
	(cd "$dir" && runc spec)
	jq --arg s "$script" '.process.terminal = false | .process.args = ["/bin/sh", "-c", $s] |
		.root.readonly = false' "$dir/config.json" >"$dir/config.tmp"
	mv "$dir/config.tmp" "$dir/config.json"
}

# bundle_edit DIR JQ-FILTER [jq args...]
bundle_edit() {
	local dir=$1 filter=$2
	shift 2
	jq "$@" "$filter" "$dir/config.json" >"$dir/config.tmp" && mv "$dir/config.tmp" "$dir/config.json"
}

# bundle_env DIR NAME=VALUE...: add environment variables
bundle_env() {
	local dir=$1 kv
	shift
	for kv in "$@"; do
		bundle_edit "$dir" '.process.env += [$kv]' --arg kv "$kv"
	done
}
