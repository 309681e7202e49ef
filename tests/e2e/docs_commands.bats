#!/usr/bin/env bats
# Every nvbind command line shown in README.md and docs/*.md is run, with --root on a copy of a
# fixture root and --dry-run where it would change the machine, and must not be refused as a
# usage error (exit 2, "unrecognized option", "unknown command", ...). The lines are read by
# helpers/doc-commands.py (its header says how synopses and placeholders are handled, and its
# SKIP list names the few lines that cannot be run). Everything runs in a private mount
# namespace: /etc is an overlay whose writes land on a tmpfs, and /etc/cdi, /var/run/cdi and
# /etc/nvbind are empty tmpfs, so nothing on the machine changes.

bats_require_minimum_version 1.5.0
load helpers/common

DOC_COMMANDS="$BATS_TEST_DIRNAME/helpers/doc-commands.py"

setup_file() {
	ensure_roots
	export ROOTS
	BUILD_DIR=$(dirname "$(dirname "$NVBIND")")
	export NVBIND_RUNTIME="$BUILD_DIR/src/nvbind-runtime" NVBIND_HOOK="$BUILD_DIR/src/nvbind-hook"
}

setup() {
	WORK="$BATS_TEST_TMPDIR/work"
	ROOT="$WORK/root" # doc-commands.py copies the fixture root there for every command
	mkdir -p "$WORK/specs" "$WORK/out-dir" "$WORK/xdg"
	echo '{}' >"$WORK/daemon.json"
	: >"$WORK/containers.conf"
	: >"$WORK/toolkit.toml"
	: >"$WORK/nvbind.toml"
	"$NVBIND" --root "$ROOTS/h100-host" cdi generate --output "$WORK/specs/spec.json" >/dev/null
}

# in_private_ns COMMAND...: COMMAND where /etc, /etc/cdi, /etc/nvbind and /var/run/cdi are
# private. A directory that does not exist is made in the overlay, never on the machine.
in_private_ns() {
	local upper="$BATS_TEST_TMPDIR/ns"
	mkdir -p "$upper"
	unshare -m --propagation private bash -c '
		set -e
		upper=$1; shift
		mount -t tmpfs -o mode=0755 nvbind-docs-etc "$upper"
		mkdir -p "$upper/etc" "$upper/etc-work" "$upper/run" "$upper/run-work"
		mount -t overlay nvbind-docs-etc -o "lowerdir=/etc,upperdir=$upper/etc,workdir=$upper/etc-work" /etc
		run_dir=$(readlink -f /var/run)
		if [ ! -d "$run_dir/cdi" ]; then
			mount -t overlay nvbind-docs-run -o "lowerdir=$run_dir,upperdir=$upper/run,workdir=$upper/run-work" "$run_dir"
		fi
		for d in /etc/cdi /etc/nvbind "$run_dir/cdi"; do
			mkdir -p "$d"
			mount -t tmpfs -o mode=0755 nvbind-docs "$d"
		done
		exec "$@"' in-private-ns "$upper" "$@"
}

run_docs() {
	run in_private_ns python3 "$DOC_COMMANDS" run --nvbind "$NVBIND" --runtime "$NVBIND_RUNTIME" \
		--hook "$NVBIND_HOOK" --root "$ROOTS/h100-host" --work "$WORK" "$@"
}

@test "docs: every documented nvbind command line is accepted" {
	run_docs --check-skip-list "$REPO/README.md" "$REPO"/docs/*.md "$REPO"/docs/design/*.md
	echo "$output"
	[ "$status" -eq 0 ]
	# the documented commands really ran (not all skipped)
	[[ "$output" =~ ([0-9]+)\ command\(s\)\ run ]]
	[ "${BASH_REMATCH[1]}" -ge 40 ]
}

@test "docs: the reader finds command lines, synopses, prompts and continuations" {
	run python3 "$DOC_COMMANDS" list "$REPO/README.md" "$REPO"/docs/*.md "$REPO"/docs/design/*.md
	[ "$status" -eq 0 ]
	grep -q '^.*README.md:[0-9]*: nvbind info  ' <<<"$output"
	grep -q 'migration.md:[0-9]*: nvbind migrate command --to podman -- docker run' <<<"$output"
	# a synopsis continued on indented lines is one command
	grep -q 'cli.md:[0-9]*: nvbind \[--root DIR\] cdi generate .*--if-changed\]' <<<"$output"
	# output lines in a block with $ prompts are not commands
	! grep -q 'migration.md:[0-9]*: nvbind run --runtime docker --gpu 0,2' <<<"$output"
}

@test "docs: a refused documented command fails the check, a crash too, a good one passes" {
	local doc="$BATS_TEST_TMPDIR/doc.md"
	printf '%s\n' '# t' '```sh' 'nvbind info --no-such-option' '```' >"$doc"
	run_docs "$doc"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused as a usage error (exit 2)"* ]]
	printf '%s\n' '```' '$ nvbind frobnicate --json' 'nvbind frobnicate: this is output' '```' >"$doc"
	run_docs "$doc"
	[ "$status" -eq 1 ]
	[[ "$output" == *"frobnicate --json"* ]]
	[[ "$output" != *"this is output"* ]]
	# a synopsis: each alternative of a|b is tried, so a wrong one is found
	printf '%s\n' '```' 'nvbind cdi list [--json|--yaml]' '```' >"$doc"
	run_docs "$doc"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cdi list --yaml"* ]]
	printf '%s\n' '```sh' 'nvbind info --json | jq .   # comment' \
		'sudo nvbind setup docker --config FILE' '```' >"$doc"
	run_docs "$doc"
	echo "$output"
	[ "$status" -eq 0 ]
	# --dry-run was added to setup, --root to both
	[[ "$output" == *"--root $ROOT setup docker --dry-run --config $WORK/daemon.json"* ]]
	[[ "$output" == *"--root $ROOT info --json"* ]]
}

@test "docs: the run changes nothing on the machine" {
	local before after
	local dirs=(/etc/cdi /var/run/cdi /etc/docker /etc/containers /etc/nvbind)
	snapshot() {
		ls -la --time-style=full-iso "${dirs[@]}" 2>&1 || true
		# the fixture root the commands were given copies of
		find "$ROOTS/h100-host" -printf '%p %M %s %T@\n' | sort
	}
	before=$(snapshot)
	run_docs "$REPO/README.md" "$REPO"/docs/*.md "$REPO"/docs/design/*.md
	after=$(snapshot)
	[ "$before" = "$after" ]
}
