#!/usr/bin/env bats
# The --root rule (docs/cli.md, "--root"): with a host root, every default path (the spec
# directories, cdi generate's output and its --if-changed state file, the configuration file,
# the engines' configuration files) is inside the root; a path a flag names is taken as given.
# The commands run in a private mount namespace whose /etc/cdi and /var/run/cdi are empty
# tmpfs (helpers/with-cdi-specs), so "nothing in the machine's /etc/cdi" is checked for real.

bats_require_minimum_version 1.5.0
load helpers/common

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"

setup_file() {
	ensure_roots
	export ROOTS NVBIND
	# only the root may give a configuration file: none of the machine's or the user's
	unset NVBIND_CONFIG NVBIND_ROOT XDG_CONFIG_HOME
	export HOME="$BATS_FILE_TMPDIR/home"
}

setup() {
	# a fresh host: h100-host has no /etc/cdi, /etc/nvbind or /etc/docker
	R="$BATS_TEST_TMPDIR/root"
	cp -a "$ROOTS/h100-host" "$R"
	[ ! -e "$R/etc/cdi" ]
}

# machine SPEC... -- COMMAND...: COMMAND (run by bash -c, with $NVBIND and $R set) in the
# private namespace, the machine's spec directories holding only the given specs
machine() {
	run --separate-stderr "$WITH_SPECS" "$@"
}

# private_etc SCRIPT: SCRIPT (bash) in a private mount namespace whose /etc is a copy of the
# machine's on a tmpfs, without /etc/cdi, /etc/nvbind, /etc/docker and /etc/containers: a
# fresh host's /etc
private_etc() {
	mkdir -p "$BATS_TEST_TMPDIR/etc"
	run --separate-stderr unshare -m --propagation private bash -c '
		set -e
		mount -t tmpfs -o mode=0755 nvbind-test-etc "$1"
		cp -a /etc/. "$1"/
		rm -rf "$1/cdi" "$1/nvbind" "$1/docker" "$1/containers"
		mount --bind "$1" /etc
		eval "$2"' private_etc "$BATS_TEST_TMPDIR/etc" "$1"
}

@test "cdi generate --root writes ROOT/etc/cdi (created 0755), nothing in the machine's /etc/cdi" {
	export R
	machine -- bash -c '"$NVBIND" --root "$R" cdi generate && ls -A /etc/cdi /var/run/cdi'
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"wrote $R/etc/cdi/nvidia.com-gpu.json"* ]]
	# both machine directories empty
	[ "$output" = "$(printf '/etc/cdi:\n\n/var/run/cdi:')" ]
	[ "$(stat -c %a "$R/etc/cdi")" = 755 ]
	run "$NVBIND" cdi validate "$R/etc/cdi/nvidia.com-gpu.json"
	[ "$status" -eq 0 ]
	# the --if-changed state file is beside the spec, inside the root
	[ -f "$R/etc/cdi/.nvidia.com-gpu.json.nvbind-state" ]
	machine -- bash -c '"$NVBIND" --root "$R" cdi generate --if-changed; echo "exit $?"; ls -A /etc/cdi'
	[ "$output" = "exit 4" ]
	[[ "$stderr" == *"$R/etc/cdi/nvidia.com-gpu.json is up to date"* ]]
}

@test "NVBIND_ROOT is the same rule as --root" {
	export R
	machine -- bash -c 'NVBIND_ROOT="$R" "$NVBIND" cdi generate && ls -A /etc/cdi'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -f "$R/etc/cdi/nvidia.com-gpu.json" ]
	machine -- bash -c 'NVBIND_ROOT="$R" "$NVBIND" cdi list'
	[ "${lines[0]}" = nvidia.com/gpu=0 ]
}

@test "cdi list and cdi validate read the root's spec directories, not the machine's" {
	export R
	"$NVBIND" --root "$R" cdi generate 2>/dev/null
	mkdir -p "$R/var/run/cdi"
	printf '{"cdiVersion":"0.5.0","kind":"example.com/net","devices":[{"name":"eth","containerEdits":{"env":["A=1"]}}]}\n' \
		>"$R/var/run/cdi/net.json"
	# the machine's directories hold a spec of their own, and an invalid one
	printf '{"cdiVersion":"0.5.0","kind":"machine.example/dev","devices":[{"name":"m","containerEdits":{"env":["M=1"]}}]}\n' \
		>"$BATS_TEST_TMPDIR/machine.json"
	printf '{"cdiVersion":"0.5.0","kind":"machine.example/dev","devices":[]}\n' >"$BATS_TEST_TMPDIR/bad.json"
	machine "$BATS_TEST_TMPDIR/machine.json" "$BATS_TEST_TMPDIR/bad.json" -- \
		bash -c '"$NVBIND" --root "$R" cdi list'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'example.com/net=eth\nnvidia.com/gpu=0\nnvidia.com/gpu=GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a\nnvidia.com/gpu=all')" ]
	machine "$BATS_TEST_TMPDIR/machine.json" "$BATS_TEST_TMPDIR/bad.json" -- \
		bash -c '"$NVBIND" --root "$R" cdi list --json'
	# (the fixture's /var/run is a link to /run: followed inside the root)
	run_dir=$(readlink -f "$R/var/run/cdi")
	[[ "$run_dir" == "$R/"* ]]
	[ "$(jq -r '[.devices[].spec] | sort | unique | join(" ")' <<<"$output")" = "$R/etc/cdi/nvidia.com-gpu.json $run_dir/net.json" ]
	machine "$BATS_TEST_TMPDIR/machine.json" "$BATS_TEST_TMPDIR/bad.json" -- \
		bash -c '"$NVBIND" --root "$R" cdi validate'
	[ "$status" -eq 0 ]
	[[ "$output" == *"$R/etc/cdi/nvidia.com-gpu.json: valid"* ]]
	[[ "$output" == *"$run_dir/net.json: valid"* ]]
	[[ "$output$stderr" != *"/etc/cdi/bad.json"* ]]
	# without --root: the machine's
	machine "$BATS_TEST_TMPDIR/machine.json" -- bash -c '"$NVBIND" cdi list'
	[ "$output" = machine.example/dev=m ]
	machine "$BATS_TEST_TMPDIR/machine.json" "$BATS_TEST_TMPDIR/bad.json" -- bash -c '"$NVBIND" cdi validate'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"/etc/cdi/bad.json: devices: the spec defines no device"* ]]
}

@test "a path given by a flag is taken as given, relative to the working directory" {
	export R
	mkdir -p "$BATS_TEST_TMPDIR/cwd/specs"
	cd "$BATS_TEST_TMPDIR/cwd"
	machine -- bash -c '"$NVBIND" --root "$R" cdi generate --output out/gpu.yaml && ls -A /etc/cdi'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -f "$BATS_TEST_TMPDIR/cwd/out/gpu.yaml" ]
	[ ! -e "$R/etc/cdi" ]
	[ ! -e "$R/out" ]
	cp out/gpu.yaml specs/
	machine -- bash -c '"$NVBIND" --root "$R" cdi list --spec-dir specs'
	[ "${lines[0]}" = nvidia.com/gpu=0 ]
	# an absolute --output is the machine's path even with --root (here: the tmpfs)
	machine -- bash -c '"$NVBIND" --root "$R" cdi generate --output /etc/cdi/gpu.json && ls /etc/cdi'
	[ "$output" = gpu.json ]
}

@test "symbolic links in the root are followed inside it; one that leads nowhere is refused" {
	export R
	# an absolute link, as in an image: /etc/cdi -> /srv/cdi means ROOT/srv/cdi
	mkdir -p "$R/srv/cdi"
	ln -s /srv/cdi "$R/etc/cdi"
	machine -- bash -c '"$NVBIND" --root "$R" cdi generate && ls -A /etc/cdi'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -f "$R/srv/cdi/nvidia.com-gpu.json" ]
	[[ "$stderr" == *"wrote $R/srv/cdi/nvidia.com-gpu.json"* ]]
	# a link whose target the root lacks would be followed out of the root: refused
	rm "$R/etc/cdi"
	ln -s /nvbind-test-nowhere "$R/etc/cdi"
	machine -- bash -c '"$NVBIND" --root "$R" cdi generate'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"$R/etc/cdi is a symbolic link that leads nowhere inside the host root $R"* ]]
	[ ! -e /nvbind-test-nowhere ]
}

@test "the configuration file is ROOT/etc/nvbind/config.toml; config init writes it there" {
	export R
	run --separate-stderr "$NVBIND" --root "$R" config init
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"wrote $R/etc/nvbind/config.toml"* ]]
	[ "$(stat -c %a "$R/etc/nvbind")" = 755 ]
	# the root's configuration is the one read, with its spec directories inside the root
	printf '[host]\nspec_dirs = ["/srv/cdi"]\n' >"$R/etc/nvbind/config.toml"
	run "$NVBIND" --root "$R" config show
	[[ "$output" == *"(file: $R/etc/nvbind/config.toml)"* ]]
	[[ "$output" == *"spec_dirs = [\"/srv/cdi\"]  # $R/etc/nvbind/config.toml:2"* ]]
	machine -- bash -c '"$NVBIND" --root "$R" cdi generate --output "$R/srv/cdi/" && "$NVBIND" --root "$R" cdi list'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = nvidia.com/gpu=0 ]
	NVBIND_ROOT="$R" run "$NVBIND" config show
	[[ "$output" == *"(file: $R/etc/nvbind/config.toml)"* ]]
	# --config is taken as given
	: >"$BATS_TEST_TMPDIR/empty.toml"
	run "$NVBIND" --root "$R" --config "$BATS_TEST_TMPDIR/empty.toml" config show
	[[ "$output" == *"(file: $BATS_TEST_TMPDIR/empty.toml)"* ]]
	run "$NVBIND" --root "$R" config init
	[ "$status" -eq 2 ]
	[[ "$output" == *"$R/etc/nvbind/config.toml exists"* ]]
}

@test "a fresh host's /etc: config init creates /etc/nvbind, cdi generate --root creates /etc/cdi" {
	export R
	before=$(stat -c %Y /etc/nvbind/config.toml 2>/dev/null || echo none)
	private_etc '"$NVBIND" config init && stat -c %a /etc/nvbind && head -1 /etc/nvbind/config.toml'
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"wrote /etc/nvbind/config.toml"* ]]
	[ "${lines[0]}" = 755 ]
	[[ "${lines[1]}" == "# nvbind configuration."* ]]
	# the machine's own /etc was never touched
	[ "$(stat -c %Y /etc/nvbind/config.toml 2>/dev/null || echo none)" = "$before" ]
	config_dir=$BATS_TEST_TMPDIR/new/dir
	run "$NVBIND" config init --output "$config_dir/config.toml"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$config_dir")" = 755 ]
}

@test "setup and migrate edit the root's engine files, not the machine's" {
	export R
	private_etc '"$NVBIND" --root "$R" setup docker >/dev/null && "$NVBIND" --root "$R" setup podman >/dev/null && ls -d /etc/docker /etc/containers 2>&1 || true'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/etc/docker"*"No such file or directory"* ]]
	[[ "$output" == *"/etc/containers"*"No such file or directory"* ]]
	[ "$(jq -r .runtimes.nvbind.path "$R/etc/docker/daemon.json")" != null ]
	grep -q '^nvbind = ' "$R/etc/containers/containers.conf"
	printf '{"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}\n' >"$R/etc/docker/daemon.json"
	private_etc '"$NVBIND" --root "$R" migrate docker >/dev/null && ls -A /etc/docker 2>&1 || true'
	[[ "$output" == *"No such file or directory"* ]]
	[ "$(jq -r '.runtimes | keys | join(" ")' "$R/etc/docker/daemon.json")" = "nvbind nvidia" ]
}

@test "doctor's fix, run as printed, fixes the finding inside the root" {
	export R
	: >"$BATS_TEST_TMPDIR/empty.toml"
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/empty.toml"
	machine -- bash -c '"$NVBIND" --root "$R" doctor --json'
	[ "$status" -eq 4 ]
	fix=$(jq -r '.findings[] | select(.code == "cdi-spec-missing") | .fix' <<<"$output")
	[[ "$fix" == "nvbind --root $R cdi generate; then "* ]]
	cmd=${fix%%; then*}
	export CMD="\"\$NVBIND\" ${cmd#nvbind }"
	machine -- bash -c 'eval "$CMD" && ls -A /etc/cdi /var/run/cdi && "$NVBIND" --root "$R" doctor --json'
	[ "$status" -eq 4 ] # the other findings of a fixture root remain (no daemon.json, sub-IDs)
	# the machine's directories stayed empty
	[[ "$output" == "/etc/cdi:"$'\n\n'"/var/run/cdi:"$'\n'"{"* ]]
	json=$(sed -n '/^{/,$p' <<<"$output")
	[ "$(jq -r '[.findings[] | select(.code == "cdi-spec-missing")] | length' <<<"$json")" = 0 ]
	[[ "$(jq -r '.findings[] | select(.code == "cdi-spec-ok") | .message' <<<"$json")" == "$R/etc/cdi/nvidia.com-gpu.json is up to date"* ]]
}
