#!/usr/bin/env bats
# What a new user meets first: global options anywhere, --help everywhere, "did you mean",
# messages about --root, empty spec directories, every problem of a spec, config show's sources,
# the configuration file's place (XDG), nvbind-runtime --version.

bats_require_minimum_version 1.5.0
load helpers/common

RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

setup_file() {
	ensure_roots
	export ROOTS
}

setup() {
	# no configuration of the machine or of the user running the tests
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/none.toml"
	: >"$NVBIND_CONFIG"
	unset NVBIND_ROOT NVBIND_LOG_LEVEL XDG_CONFIG_HOME
}

@test "global options after the command work like before it" {
	run "$NVBIND" --root "$ROOTS/h100-host" info --json
	[ "$status" -eq 0 ]
	before=$output
	run "$NVBIND" info --root "$ROOTS/h100-host" --json
	[ "$status" -eq 0 ]
	[ "$output" = "$before" ]
	run "$NVBIND" info --json --root="$ROOTS/h100-host" --log-level=error
	[ "$status" -eq 0 ]
	[ "$output" = "$before" ]
	# a bad value is checked wherever it stands
	run "$NVBIND" info --log-level loud
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown --log-level 'loud'"* ]]
	run "$NVBIND" info --root
	[ "$status" -eq 2 ]
	[[ "$output" == *"--root needs a value"* ]]
}

@test "global options are not taken from a container's command line, nor from a command's own options" {
	run "$NVBIND" run --dry-run --runtime podman --gpu 0 --root "$ROOTS/h100-host" img tool --root x --log-level y
	[ "$status" -eq 0 ]
	[[ "$output" == *" img tool --root x --log-level y" ]]
	[[ "$output" == *"nvidia.com/gpu=0"* ]]
	# an option value that looks like a global option stays the value
	run "$NVBIND" run --dry-run --runtime podman --env --root=1 img
	[ "$status" -eq 0 ]
	[[ "$output" == *" -e --root=1 img" ]]
	# setup's --config is daemon.json, not nvbind's configuration
	echo '{}' >"$BATS_TEST_TMPDIR/daemon.json"
	run "$NVBIND" setup docker --config "$BATS_TEST_TMPDIR/daemon.json" --runtime-path /usr/bin/nvbind-runtime --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"$BATS_TEST_TMPDIR/daemon.json"* ]]
	[[ "$output" == *'"nvbind"'* ]]
	# migrate command: the docker command line is left alone
	run "$NVBIND" migrate command --to nvbind -- docker run --gpus all --log-level debug img
	[ "$status" -eq 0 ]
	[[ "$output" == *"--log-level debug img"* ]]
}

@test "--help works for every command and subcommand, also with a broken configuration" {
	printf '[host]\nrot = "/"\n' >"$BATS_TEST_TMPDIR/bad.toml"
	for cmd in "info" "cdi" "cdi generate" "cdi validate" "cdi list" "run" "config" "config init" \
		"config show" "config validate" "doctor" "setup" "setup docker" "setup podman" "migrate" \
		"migrate docker" "migrate command" "hook" "hook libraries" "hook create-symlinks" \
		"hook update-ldcache"; do
		for help in --help -h; do
			# shellcheck disable=SC2086
			NVBIND_CONFIG="$BATS_TEST_TMPDIR/bad.toml" run --separate-stderr "$NVBIND" $cmd $help
			if [ "$status" -ne 0 ] || [[ "$output" != Usage:* ]]; then
				echo "nvbind $cmd $help: status $status, stdout: $output, stderr: $stderr"
				return 1
			fi
		done
	done
	# config validate --help is no file name
	run "$NVBIND" config validate --help
	[[ "$output" != *"No such file"* ]]
	run "$NVBIND" config validate --bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"config validate: unknown option '--bogus'"* ]]
}

@test "did you mean: commands, subcommands, profiles, capability words" {
	check() { # check WANT ARGS...: usage error with the hint "did you mean 'WANT'?"
		local want=$1
		shift
		run "$NVBIND" "$@"
		[ "$status" -eq 2 ] || { echo "$* -> $status: $output"; return 1; }
		[[ "$output" == *"hint: did you mean '$want'?"* ]] || { echo "$* -> $output"; return 1; }
	}
	check info ifno
	check config confg
	check migrate mirgate
	check validate config valdate
	check list cdi lst
	check generate cdi genrate --output -
	check docker setup dokcer
	check checkpoint gpu chekpoint --pid 1
	check command migrate comand
	check gaming run --dry-run --profile gamng img
	check ai-ml run --dry-run --profile aiml img
	check graphics --root "$ROOTS/h100-host" cdi generate --output - --driver-capabilities compute,grahpics
	# nothing close: the hint lists what there is
	run "$NVBIND" xyz
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'xyz'"* ]]
	[[ "$output" == *"hint: use info, cdi, run, config, doctor, setup, migrate, serve, capsule, gpu or hook"* ]]
	run "$NVBIND" run --dry-run --profile zzzzzzzz img
	[ "$status" -eq 2 ]
	[[ "$output" == *"hint: use gaming, ai-ml, video"* ]]
	# the configuration's capability words too
	printf '[gpu]\ncapabilities = "compute,utilty"\n' >"$BATS_TEST_TMPDIR/caps.toml"
	run "$NVBIND" config validate "$BATS_TEST_TMPDIR/caps.toml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown driver capability 'utilty' (did you mean 'utility'?)"* ]]
}

@test "a relative --root is resolved against the working directory, and says so" {
	cd "$ROOTS"
	run --separate-stderr "$NVBIND" --root h100-host info --json
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"--root 'h100-host' is relative: it is resolved against the working directory, as $ROOTS/h100-host"* ]]
	[ "$(jqo '.gpus[0].uuid')" = GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a ]
	run --separate-stderr "$NVBIND" config show --root h100-host
	[[ "$output" == *"root = \"$ROOTS/h100-host\"  # --root"* ]]
}

@test "a root without /proc is said to be no host root, not a host without GPU" {
	mkdir -p "$BATS_TEST_TMPDIR/image/usr/lib"
	for cmd in info doctor "cdi generate --output -"; do
		# shellcheck disable=SC2086
		run "$NVBIND" --root "$BATS_TEST_TMPDIR/image" $cmd
		[ "$status" -eq 1 ]
		[[ "$output" == *"host root $BATS_TEST_TMPDIR/image has no /proc: is it a host root?"* ]]
		[[ "$output" != *"No NVIDIA GPU"* ]]
	done
	# a real host root without GPU still says that
	run "$NVBIND" --root "$ROOTS/no-gpu" info
	[ "$status" -eq 0 ]
	[[ "$output" == *"No NVIDIA GPU found on this host."* ]]
}

@test "info never prints '(null)' for an unknown kernel module flavour" {
	cp -a "$ROOTS/h100-host" "$BATS_TEST_TMPDIR/root"
	# a version file nvbind cannot read: the version then comes from libcuda's name
	echo "NVRM: something else" >"$BATS_TEST_TMPDIR/root/proc/driver/nvidia/version"
	run "$NVBIND" --root "$BATS_TEST_TMPDIR/root" info
	[[ "$output" == *"Driver:       NVIDIA 580.159.04"* ]]
	[[ "$output" != *"(null)"* ]]
	[[ "$output" != *"( kernel module)"* ]]
	run "$NVBIND" --root "$ROOTS/h100-host" info
	[[ "$output" == *"Driver:       NVIDIA 580.159.04 (open kernel module), CUDA 13.0"* ]]
}

@test "cdi list and cdi validate with no spec say so and name the directories" {
	mkdir -p "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	run --separate-stderr "$NVBIND" cdi list --spec-dir "$BATS_TEST_TMPDIR/a" --spec-dir "$BATS_TEST_TMPDIR/b"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"no CDI devices: no CDI spec (.json, .yaml) in $BATS_TEST_TMPDIR/a, $BATS_TEST_TMPDIR/b"* ]]
	run --separate-stderr "$NVBIND" cdi validate --spec-dir "$BATS_TEST_TMPDIR/a"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"nothing to validate: no CDI spec (.json, .yaml) in $BATS_TEST_TMPDIR/a"* ]]
	# the configuration's directories when none is given
	printf '[host]\nspec_dirs = ["%s"]\n' "$BATS_TEST_TMPDIR/b" >"$NVBIND_CONFIG"
	run --separate-stderr "$NVBIND" cdi list
	[[ "$stderr" == *"no CDI spec (.json, .yaml) in $BATS_TEST_TMPDIR/b"* ]]
	# --json output stays machine-readable: an empty list, nothing on stderr
	run --separate-stderr "$NVBIND" cdi list --json
	[ "$(jq '.devices | length' <<<"$output")" = 0 ]
}

@test "cdi validate reports every problem of a file, one line each" {
	cat >"$BATS_TEST_TMPDIR/bad.json" <<'EOF'
{"cdiVersion": "9.9.9", "kind": "nvidia.com",
 "devices": [{"name": "-bad", "containerEdits": {"env": ["NOEQ"], "deviceNodes": [{"path": "dev/x"}]}},
             {"name": "0", "containerEdits": {"hooks": [{"hookName": "later", "path": "/bin/true", "env": ["PATH=/bin"]}]}},
             {"name": "0", "containerEdits": {"env": ["A=1"]}}]}
EOF
	run --separate-stderr "$NVBIND" cdi validate "$BATS_TEST_TMPDIR/bad.json"
	[ "$status" -eq 1 ]
	echo "$stderr"
	for want in 'cdiVersion: "9.9.9" is not a known CDI version' 'kind: "nvidia.com" is not vendor/class' \
		'device "-bad": name: "-bad" is not a valid device name' \
		'device "-bad": containerEdits.env: entry 0 "NOEQ" is not NAME=VALUE' \
		'device "-bad": containerEdits.deviceNodes[0]: path "dev/x" is not absolute' \
		'device "0": containerEdits.hooks[0]: hookName "later"' \
		'device "0": name: duplicate device name (also devices[1])'; do
		[ "$(grep -cF -- "nvbind: error: $BATS_TEST_TMPDIR/bad.json: $want" <<<"$stderr")" = 1 ] ||
			{ echo "missing: $want"; return 1; }
	done
	[ "$(grep -c '^nvbind: error: ' <<<"$stderr")" = 7 ]
}

@test "config show: the value in effect and its source for every key, flags included" {
	printf '[log]\nlevel = "info"\nformat = "json"\n' >"$NVBIND_CONFIG"
	run --separate-stderr "$NVBIND" config show
	[[ "$output" == *"level = \"info\"  # $NVBIND_CONFIG:2"* ]]
	[[ "$output" == *"format = \"json\"  # $NVBIND_CONFIG:3"* ]]
	[[ "$output" == *'file = ""  # default'* ]]
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$NVBIND" --log-level debug config show --log-format text --log-file rel.log
	[[ "$output" == *'level = "debug"  # --log-level'* ]]
	[[ "$output" == *'format = "text"  # --log-format'* ]]
	[[ "$output" == *"file = \"$PWD/rel.log\"  # --log-file"* ]]
	# flag > environment > file
	NVBIND_LOG_LEVEL=trace run --separate-stderr "$NVBIND" config show
	[[ "$output" == *'level = "trace"  # NVBIND_LOG_LEVEL'* ]]
	NVBIND_LOG_LEVEL=trace run --separate-stderr "$NVBIND" config show --log-level error
	[[ "$output" == *'level = "error"  # --log-level'* ]]
	# every key has a source (profiles name theirs on their [profiles.NAME] line)
	run --separate-stderr "$NVBIND" config show
	keys=$(sed '/^\[profiles\./,$d' <<<"$output" | grep -E '^[a-z_]+ = ')
	[ "$(wc -l <<<"$keys")" -ge 20 ]
	[ "$(grep -vc '  # ' <<<"$keys")" = 0 ]
	# the flags also govern the logging of other commands
	run --separate-stderr "$NVBIND" --root "$ROOTS/h100-host" info --json --log-level debug --log-format json
	[ "$status" -eq 0 ]
	[ -n "$stderr" ]
	head -1 <<<"$stderr" | jq -e '.level == "debug"' >/dev/null
}

@test "the configuration file: --config, NVBIND_CONFIG, XDG_CONFIG_HOME, ~/.config, /etc" {
	unset NVBIND_CONFIG
	home="$BATS_TEST_TMPDIR/home"
	mkdir -p "$home/.config/nvbind" "$BATS_TEST_TMPDIR/xdg/nvbind"
	printf '[runtime]\nengine = "docker"\n' >"$home/.config/nvbind/config.toml"
	printf '[runtime]\nengine = "bolt"\n' >"$BATS_TEST_TMPDIR/xdg/nvbind/config.toml"
	# XDG_CONFIG_HOME unset: ~/.config
	HOME="$home" run --separate-stderr "$NVBIND" config show
	[[ "$output" == *"(file: $home/.config/nvbind/config.toml)"* ]]
	[[ "$output" == *"engine = \"docker\"  # $home/.config/nvbind/config.toml:2"* ]]
	# XDG_CONFIG_HOME set: its file, not ~/.config's
	HOME="$home" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg" run --separate-stderr "$NVBIND" config show
	[[ "$output" == *'engine = "bolt"'* ]]
	# XDG_CONFIG_HOME without a file: no fallback to ~/.config (one user directory)
	HOME="$home" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/empty" run --separate-stderr "$NVBIND" config show
	[[ "$output" != *'engine = "docker"'* ]]
	# a relative XDG_CONFIG_HOME is ignored (XDG base directory specification)
	HOME="$home" XDG_CONFIG_HOME=relative run --separate-stderr "$NVBIND" config show
	[[ "$output" == *'engine = "docker"'* ]]
	# NVBIND_CONFIG and --config come first
	printf '[runtime]\nengine = "podman"\n' >"$BATS_TEST_TMPDIR/explicit.toml"
	HOME="$home" NVBIND_CONFIG="$BATS_TEST_TMPDIR/explicit.toml" run "$NVBIND" config show
	[[ "$output" == *"engine = \"podman\"  # $BATS_TEST_TMPDIR/explicit.toml:2"* ]]
	HOME="$home" run "$NVBIND" config show --config "$BATS_TEST_TMPDIR/explicit.toml"
	[[ "$output" == *"engine = \"podman\"  # $BATS_TEST_TMPDIR/explicit.toml:2"* ]]
	# the wrapper reads the same file: a broken user file stops its create
	printf '[runtime]\nengine = 3\n' >"$home/.config/nvbind/config.toml"
	HOME="$home" run "$NVBIND" config validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"$home/.config/nvbind/config.toml:2"* ]]
}

@test "nvbind-runtime --version: nvbind's version, then the low-level runtime's" {
	need_engine runc
	run "$RUNTIME" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "nvbind-runtime version "*" (nvbind)" ]]
	[[ "$output" == *"low-level runtime: "*runc* ]]
	[[ "$output" == *"runc version"* ]]
	# runc's lines come last: docker info reads the runtime's version from them
	[[ "$(grep version <<<"$output" | tail -1)" == "runc version"* ]]
	run "$RUNTIME" -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"runc version"* ]]
	# without runc: says so, exit 0, nvbind's line first
	run env PATH=/nonexistent "$RUNTIME" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "nvbind-runtime version "* ]]
	[[ "$output" == *"low-level runtime: none found"* ]]
	# the version of nvbind matches
	[[ "${lines[0]}" == "nvbind-runtime version $("$NVBIND" --version | cut -d' ' -f2) (nvbind)" ]]
}
